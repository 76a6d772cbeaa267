/**
 * @module fdl/fdl-parser
 * FDL files (OSCAR v3/v4 and SCAR v4) → Service JSON, with every problem reported at its line and column.
 * Like oscar-cli, the parser inlines each service's script (read relative to the FDL file), sets
 * `cluster_id` from the list item's key and copies the file's `storage_providers` and `clusters` into
 * each service. Unlike oscar-cli, it rejects unknown keys and wrong types instead of ignoring them.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { byPosition, DiagnosticSink, fdlError, type FdlDiagnostic } from './diagnostics.js';
import { fdlFileSchema } from './fdl-schema.js';
import {
  definitionsWithoutFiles,
  inlineMapReduceFiles,
  readMapReduceSection,
  type FdlMapReduce,
} from './mapreduce-section.js';
import { fdlErrorMap } from './schema-kit.js';
import { scarToServiceJson } from './scar-convert.js';
import { scarFunctionSchema } from './scar-schema.js';
import { READ_ONLY_SERVICE_FIELDS, serviceJsonSchema, type ServiceJson } from './service-json.js';
import { SCAR_ONLY_CLUSTER_KEYS, type ClusterJson, type StorageProvidersJson } from './storage-json.js';
import { YamlTooLargeError, toPlain, type ValuePath } from './yaml-tree.js';

/** One service defined by an FDL file. */
export interface FdlService {
  /** The OSCAR cluster id the item names (`functions.oscar[i].<id>`); null for SCAR functions. */
  clusterId: string | null;
  source: 'oscar' | 'scar';
  /** The service as OSCAR's Service JSON, its script inlined. */
  json: ServiceJson;
}

/** A parsed, validated FDL file. */
export interface FdlDocument {
  file: string;
  services: FdlService[];
  /** MapReduce definitions (the `mapreduce` section), their function files inlined. */
  mapreduce: FdlMapReduce[];
  storageProviders: StorageProvidersJson;
  clusters: Record<string, ClusterJson>;
  /** What the file asks for that Nubes does not use, each at its line and column. */
  warnings: FdlDiagnostic[];
}

export interface ParseFdlOptions {
  /** The file's name as shown in messages (`demo.yaml:12:7: …`). */
  file: string;
  /**
   * Returns the content of a script named in the file (path as written, relative to the FDL file), or
   * undefined when there is none. Without it, `script` keeps the path as written (validation only).
   */
  readScript?: (relativePath: string) => string | undefined;
}

interface PendingService {
  clusterId: string | null;
  source: 'oscar' | 'scar';
  json: ServiceJson;
  /** Where the service's fields are written (the OSCAR service map, SCAR's `lambda`). */
  fieldsPath: ValuePath;
  /** Where the script reference is written, for a missing file. */
  scriptPath: ValuePath;
}

/**
 * Parses and validates FDL text. Throws FDL_SYNTAX for YAML errors, FDL_INVALID carrying every diagnostic
 * (`details.diagnostics`) for schema errors, FDL_SCRIPT_NOT_FOUND when only script files are missing.
 */
export function parseFdl(text: string, options: ParseFdlOptions): FdlDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const diagnostics = doc.errors.map((error): FdlDiagnostic => {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      return { file: options.file, line, column: col, path: '', message: error.message, severity: 'error' };
    });
    throw fdlError('FDL_SYNTAX', diagnostics);
  }
  const sink = new DiagnosticSink(options.file, doc, lineCounter);
  for (const warning of doc.warnings) sink.warn([], warning.message);

  let plain: unknown;
  try {
    plain = toPlain(doc.contents, doc);
  } catch (error) {
    if (!(error instanceof YamlTooLargeError)) throw error;
    sink.error([], `${error.message} (aliases expanding without limit?)`);
    throw fdlError('FDL_INVALID', sink.errors);
  }
  if (plain === null) {
    sink.error([], 'the file is empty; an FDL file is a map with a "functions" key');
    throw fdlError('FDL_INVALID', sink.errors);
  }
  const top = fdlFileSchema.safeParse(plain, { errorMap: fdlErrorMap });
  if (!top.success) {
    sink.addIssues(top.error.issues);
    throw fdlError('FDL_INVALID', sink.errors);
  }
  const { storage_providers: storageProviders = {}, clusters = {} } = top.data;
  const functions = top.data.functions ?? {};
  if (top.data.mapreduce === undefined) {
    if (top.data.functions === undefined) sink.error(['functions'], 'missing required field "functions"');
    else if (functions.oscar === undefined && functions.aws === undefined)
      sink.error(['functions'], 'define services under "oscar" (OSCAR) or "aws" (SCAR)');
  }
  for (const [clusterId, cluster] of Object.entries(clusters)) {
    for (const key of SCAR_ONLY_CLUSTER_KEYS) {
      if (cluster[key] === undefined) continue;
      sink.warn(['clusters', clusterId, key], `${key}: a SCAR scar.cfg default, not used by OSCAR or Nubes`);
    }
  }

  // As oscar-cli does, the file's providers and clusters travel with each service (only when the file has them).
  const shared: Pick<ServiceJson, 'storage_providers' | 'clusters'> = {};
  if (top.data.storage_providers) shared.storage_providers = storageProviders;
  if (top.data.clusters) shared.clusters = clusters;
  const pending = [
    ...readOscarServices(functions.oscar ?? [], shared, sink),
    ...readScarFunctions(functions.aws ?? [], shared, sink),
  ];
  checkProviderReferences(pending, storageProviders, sink);
  checkDuplicateNames(pending, sink);
  const pendingMapReduce = readMapReduceSection(top.data.mapreduce ?? {}, sink);

  const schemaErrors = sink.errors.length;
  let mapreduce = definitionsWithoutFiles(pendingMapReduce);
  if (options.readScript) {
    for (const service of pending) inlineScript(service, options.readScript, options.file, sink);
    mapreduce = inlineMapReduceFiles(pendingMapReduce, options.readScript, options.file, sink);
  }
  if (sink.errors.length > 0) {
    throw fdlError(schemaErrors > 0 ? 'FDL_INVALID' : 'FDL_SCRIPT_NOT_FOUND', sink.errors);
  }

  return {
    file: options.file,
    services: pending.map(({ clusterId, source, json }) => ({ clusterId, source, json })),
    mapreduce,
    storageProviders,
    clusters,
    warnings: [...sink.warnings].sort(byPosition),
  };
}

/** `functions.oscar`: a list of `{<cluster-id>: Service}` maps. */
function readOscarServices(
  items: readonly Record<string, unknown>[],
  shared: Pick<ServiceJson, 'storage_providers' | 'clusters'>,
  sink: DiagnosticSink,
): PendingService[] {
  const pending: PendingService[] = [];
  items.forEach((item, index) => {
    const entries = Object.entries(item);
    if (entries.length === 0)
      sink.error(['functions', 'oscar', index], 'expected a map of <cluster-id>: <service>');
    for (const [clusterId, raw] of entries) {
      const base = ['functions', 'oscar', index, clusterId];
      const parsed = serviceJsonSchema.safeParse(raw, { errorMap: fdlErrorMap });
      if (!parsed.success) {
        sink.addIssues(parsed.error.issues, base);
        continue;
      }
      const json = parsed.data;
      if (json.script === undefined && json.kserve === undefined) {
        // OSCAR's API requires a script; SCAR does not (the image's command runs), and Nubes follows SCAR.
        sink.warn(base, "no script: the image's own command runs (OSCAR itself would require a script)");
      }
      for (const field of READ_ONLY_SERVICE_FIELDS) {
        if (json[field] !== undefined)
          sink.warn([...base, field], `${field}: set by the server; the value here is ignored`);
      }
      // oscar-cli sets cluster_id from the item's key, whatever the service says.
      Object.assign(json, structuredClone(shared), { cluster_id: clusterId });
      pending.push({ clusterId, source: 'oscar', json, fieldsPath: base, scriptPath: [...base, 'script'] });
    }
  });
  return pending;
}

/** `functions.aws`: SCAR functions, each converted to Service JSON and validated as such. */
function readScarFunctions(
  items: readonly unknown[],
  shared: Pick<ServiceJson, 'storage_providers'>,
  sink: DiagnosticSink,
): PendingService[] {
  const pending: PendingService[] = [];
  items.forEach((raw, index) => {
    const base = ['functions', 'aws', index];
    const parsed = scarFunctionSchema.safeParse(raw, { errorMap: fdlErrorMap });
    if (!parsed.success) {
      sink.addIssues(parsed.error.issues, base);
      return;
    }
    const conversion = scarToServiceJson(parsed.data);
    for (const warning of conversion.warnings) sink.warn([...base, ...warning.path], warning.message);
    if (shared.storage_providers)
      conversion.json.storage_providers = structuredClone(shared.storage_providers);
    const service = serviceJsonSchema.safeParse(conversion.json, { errorMap: fdlErrorMap });
    if (!service.success) {
      // The Service JSON is derived: report each problem at the SCAR key it came from.
      sink.addIssues(service.error.issues, [], (path) => [...base, ...conversion.sourcePath(path)]);
      return;
    }
    const fieldsPath = [...base, 'lambda'];
    const scriptPath = [...fieldsPath, conversion.scriptKey ?? 'init_script'];
    pending.push({ clusterId: null, source: 'scar', json: service.data, fieldsPath, scriptPath });
  });
  return pending;
}

function inlineScript(
  service: PendingService,
  readScript: (relativePath: string) => string | undefined,
  file: string,
  sink: DiagnosticSink,
): void {
  const reference = service.json.script;
  if (reference === undefined) return;
  const content = readScript(reference);
  if (content === undefined) {
    sink.error(
      service.scriptPath,
      `script file "${reference}" not found (relative to the folder of ${file})`,
    );
    return;
  }
  // Windows line endings break `#!/bin/sh` lines; OSCAR normalises them too.
  service.json.script = content.replace(/\r\n/g, '\n');
}

/** A `type.id` reference to a provider the file does not define works only if the server knows it: say so. */
function checkProviderReferences(
  services: PendingService[],
  providers: StorageProvidersJson,
  sink: DiagnosticSink,
): void {
  for (const service of services) {
    const own = service.json.storage_providers ?? providers;
    for (const direction of ['input', 'output'] as const) {
      service.json[direction]?.forEach((io, index) => {
        const dot = io.storage_provider.indexOf('.');
        if (dot === -1) return;
        const type = io.storage_provider.slice(0, dot).toLowerCase();
        const id = io.storage_provider.slice(dot + 1);
        if (id === 'default') return;
        const ofType = (own as Record<string, Record<string, unknown> | undefined>)[type];
        if (ofType?.[id] === undefined) {
          const path = [...service.fieldsPath, direction, index, 'storage_provider'];
          sink.warn(
            path,
            `storage provider "${io.storage_provider}" is not defined in storage_providers`,
            'value',
          );
        }
      });
    }
  }
}

/** One Nubes platform holds one service per name: a second definition replaces the first. */
function checkDuplicateNames(services: PendingService[], sink: DiagnosticSink): void {
  const seen = new Map<string, PendingService>();
  for (const service of services) {
    const first = seen.get(service.json.name);
    if (first) {
      const where = first.clusterId === null ? 'earlier' : `earlier for cluster "${first.clusterId}"`;
      sink.warn(
        [...service.fieldsPath, 'name'],
        `service "${service.json.name}" is also defined ${where}; deployed to one Nubes platform, the last definition wins`,
      );
    } else {
      seen.set(service.json.name, service);
    }
  }
}

/**
 * Reads and parses an FDL file, inlining each script from the file's folder. Missing scripts fail with
 * FDL_SCRIPT_NOT_FOUND at the line and column of their `script:` value.
 */
export async function loadFdlFile(path: string): Promise<FdlDocument> {
  const text = await readFile(path, 'utf8');
  const folder = dirname(resolve(path));
  // First pass: learn which scripts the file names (nothing is read), then read them all concurrently.
  const wanted = new Set<string>();
  try {
    parseFdl(text, { file: path, readScript: (relative) => (wanted.add(relative), '') });
  } catch {
    // Reported by the second pass, with the scripts read.
  }
  const scripts = new Map<string, string>();
  await Promise.all(
    [...wanted].map(async (relative) => {
      try {
        scripts.set(relative, await readFile(resolve(folder, relative), 'utf8'));
      } catch {
        // Left out: the second pass reports it where the file names it.
      }
    }),
  );
  return parseFdl(text, { file: path, readScript: (relative) => scripts.get(relative) });
}
