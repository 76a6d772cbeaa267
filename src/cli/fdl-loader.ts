/**
 * @module cli/fdl-loader
 * The FDL files as the CLI needs them: the services to deploy and every problem with its position.
 * The parser is imported on first use, so commands that never read an FDL do not load it.
 */
import { PlatformError } from '../core/index.js';
import type { Diagnostic } from './output.js';

/** One service of an FDL file, ready to send to the API. */
export interface FdlService {
  /** The cluster id the FDL places it on (`functions.oscar[].<id>`), null for SCAR files. */
  clusterId: string | null;
  /** OSCAR Service JSON (script inlined). */
  json: { name: string } & Record<string, unknown>;
}

/** One MapReduce definition of an FDL file, ready to PUT to /system/mapreduce/definitions/{name}. */
export interface FdlMapReduceDefinition {
  name: string;
  json: Record<string, unknown>;
}

/** A parsed FDL file. */
export interface FdlFile {
  file: string;
  services: FdlService[];
  mapreduce: FdlMapReduceDefinition[];
  warnings: Diagnostic[];
}

/** Parses an FDL file; throws a PlatformError FDL_* whose `details.diagnostics` lists every error. */
export async function loadFdl(file: string): Promise<FdlFile> {
  const { loadFdlFile } = await import('../fdl/index.js');
  let loaded: Awaited<ReturnType<typeof loadFdlFile>>;
  try {
    loaded = await loadFdlFile(file);
  } catch (error) {
    throw unreadable(error, file);
  }
  return {
    file: loaded.file,
    services: loaded.services.map((service) => ({
      clusterId: service.clusterId,
      json: service.json,
    })),
    mapreduce: loaded.mapreduce.map((definition) => ({ name: definition.name, json: definition.json })),
    warnings: loaded.warnings.map((warning) => ({ ...warning })),
  };
}

/** The diagnostics a failed load carries, or undefined when it failed for another reason. */
export function fdlDiagnostics(error: unknown): Diagnostic[] | undefined {
  if (!(error instanceof PlatformError) || typeof error.details !== 'object' || error.details === null)
    return undefined;
  const list = (error.details as { diagnostics?: unknown }).diagnostics;
  if (!Array.isArray(list)) return undefined;
  const diagnostics = list.filter(isDiagnostic);
  return diagnostics.length > 0 ? diagnostics : undefined;
}

/** The diagnostics a failed load carries; a failure without them becomes one diagnostic without position. */
export function diagnosticsOf(error: unknown, file: string): Diagnostic[] {
  const message = error instanceof Error ? error.message : String(error);
  return fdlDiagnostics(error) ?? [{ file, line: 0, column: 0, message, severity: 'error' }];
}

/** A file that cannot be read is the user's to fix (a typo in the path, a folder, no permission). */
function unreadable(error: unknown, file: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (error instanceof PlatformError || code === undefined) return error;
  const reason =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EISDIR'
        ? 'it is a folder'
        : code === 'EACCES'
          ? 'permission denied'
          : code;
  return new PlatformError('VALIDATION_FAILED', `cannot read ${file}: ${reason}`, { cause: error });
}

function isDiagnostic(value: unknown): value is Diagnostic {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate['file'] === 'string' &&
    typeof candidate['line'] === 'number' &&
    typeof candidate['column'] === 'number' &&
    typeof candidate['message'] === 'string' &&
    (candidate['severity'] === 'error' || candidate['severity'] === 'warning')
  );
}
