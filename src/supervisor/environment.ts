/**
 * @module supervisor/environment
 * The environment of a user's script: OSCAR's supervisor contract (INPUT_FILE_PATH, TMP_INPUT_DIR, …), the
 * service's variables and secrets, and a minimal PATH/HOME/LANG. Built from nothing: the server's own
 * environment holds credentials and must never reach a script.
 */
import type { ServiceSpec } from '../fdl/service-spec.js';

/** PATH given to scripts: the usual system directories, nothing from the server's PATH. */
export const DEFAULT_SCRIPT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Largest EVENT value passed. Linux refuses to exec when one environment string exceeds 128 KiB
 * (MAX_ARG_STRLEN), so a larger event is left out rather than failing the job; http bodies are in
 * INPUT_FILE_PATH anyway.
 */
export const MAX_EVENT_ENV_BYTES = 120 * 1024;

/** Variables the supervisor sets itself; a service variable of the same name is overridden. */
export const RESERVED_VARIABLES = [
  'INPUT_FILE_PATH',
  'TMP_INPUT_DIR',
  'TMP_OUTPUT_DIR',
  'STORAGE_OBJECT_KEY',
  'EVENT',
  'EVENT_TIME',
  'JOB_UUID',
  'OSCAR_SERVICE_NAME',
] as const;

export interface JobEnvironmentInput {
  jobId: string;
  service: Pick<ServiceSpec, 'name' | 'variables' | 'secrets'>;
  /** The raw event JSON (or the http body as text). */
  event: string;
  /** Present for storage events. */
  object: { key: string; eventTimeIso: string } | null;
  workDir: string;
  inputDir: string;
  outputDir: string;
  /** The staged input (storage object or decoded http body); null when there is none. */
  inputFilePath: string | null;
}

export interface JobEnvironment {
  env: Record<string, string>;
  /** Things the user should know (an event too large to pass), for the job's log. */
  notes: string[];
}

/** Builds the script's environment. Pure: reads nothing from the process. */
export function buildJobEnvironment(input: JobEnvironmentInput): JobEnvironment {
  const notes: string[] = [];
  // Base first, so that a service may set its own PATH or LANG; the OSCAR variables go last and win.
  const env: Record<string, string> = {
    PATH: DEFAULT_SCRIPT_PATH,
    // A writable home: many tools (pip, matplotlib, R) write caches under $HOME, and / is read-only in the
    // sandbox. The work folder is removed after the job, caches included.
    HOME: input.workDir,
    LANG: 'C.UTF-8',
    ...input.service.variables,
    ...input.service.secrets,
  };
  for (const name of RESERVED_VARIABLES) delete env[name];

  env.TMP_INPUT_DIR = input.inputDir;
  env.TMP_OUTPUT_DIR = input.outputDir;
  if (input.inputFilePath !== null) env.INPUT_FILE_PATH = input.inputFilePath;
  if (input.object !== null) {
    env.STORAGE_OBJECT_KEY = input.object.key;
    env.EVENT_TIME = input.object.eventTimeIso;
  }
  if (Buffer.byteLength(input.event) <= MAX_EVENT_ENV_BYTES) {
    env.EVENT = input.event;
  } else {
    notes.push(`EVENT not set: the event is larger than ${MAX_EVENT_ENV_BYTES} bytes`);
  }
  env.JOB_UUID = input.jobId;
  env.OSCAR_SERVICE_NAME = input.service.name;

  // exec fails with EINVAL on a NUL byte; drop such values instead of failing the job obscurely.
  for (const [name, value] of Object.entries(env)) {
    if (value.includes('\0') || name.includes('=') || name.includes('\0') || name === '') {
      delete env[name];
      notes.push(`variable ${JSON.stringify(name)} not set: its name or value is not representable`);
    }
  }
  return { env, notes };
}
