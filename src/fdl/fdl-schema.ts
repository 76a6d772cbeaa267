/**
 * @module fdl/fdl-schema
 * The top level of an FDL file, shared by OSCAR and SCAR: `functions` (OSCAR's `oscar` list of
 * `{<cluster-id>: Service}` maps and SCAR's `aws` list), `mapreduce` (Nubes' MapReduce definitions),
 * `storage_providers` and `clusters`. The services
 * themselves are validated one by one by the parser, each against its own schema.
 */
import { z } from 'zod';
import { opt, strictObject } from './schema-kit.js';
import { clusterSchema, storageProvidersSchema } from './storage-json.js';

export const fdlFileSchema = strictObject({
  functions: opt(
    strictObject({
      oscar: opt(z.array(z.record(z.string(), z.unknown()))),
      aws: opt(z.array(z.unknown())),
    }),
  ),
  /** MapReduce definitions by name (mapreduce-section.ts validates each). */
  mapreduce: opt(z.record(z.string(), z.unknown())),
  storage_providers: opt(storageProvidersSchema),
  clusters: opt(z.record(z.string(), clusterSchema)),
});
export type FdlFileJson = z.infer<typeof fdlFileSchema>;
