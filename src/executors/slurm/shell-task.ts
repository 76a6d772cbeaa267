/**
 * @module executors/slurm/shell-task
 * Decides whether a job can run on the batch script's shell path (shell-supervisor.ts) instead of the Node
 * supervisor, and builds the task's file for it: shell assignments and functions that the batch script
 * sources, everything computed here at submission, as the supervisor would compute it on the node.
 *
 * The shell path takes a job whose input is an object of the platform's own store (or an http body, or
 * nothing) and whose outputs all go to the platform's own store. Jobs with inputs or outputs on other
 * providers (which need the providers' SDKs and credentials) run the Node supervisor, as do all jobs when
 * the executor's `shellJobs` is off.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { ScopedKey } from '../../storage/scoped-access.js';
import { presignUrl } from '../../s3api/sigv4/presign.js';
import { awsEncode } from '../../s3api/percent-encoding.js';
import { parseEvent } from '../../supervisor/event-parser.js';
import { decodeHttpBody } from '../../supervisor/http-body.js';
import { buildJobEnvironment } from '../../supervisor/environment.js';
import { inputFileName } from '../../supervisor/stage-in.js';
import { DEFAULT_PROVIDER } from '../../supervisor/stage-out.js';
import type { StorageIoSpec } from '../../fdl/service-spec.js';
import type { Invocation } from '../executor.js';
import { shellQuote } from './sbatch-script.js';

/** What the submission writes for a task on the shell path. */
export interface ShellTask {
  /** The task's file (`<i>.sh`, mode 0600): sourced by the batch script. */
  file: string;
  /** The script, written once per submission as `script-<hash>.sh` (mode 0700). */
  script: { name: string; content: string };
  /**
   * With its folder in the spool: the decoded http body, written by the server as the job's input file.
   * With its folder on the node: a body that cannot travel in a shell variable (NUL bytes, large), `<i>.in`.
   */
  body: Buffer | null;
  /**
   * The job's folder is `<i>.w` in the spool (with `input/`, `output/` and the body staged), made and
   * removed by the server: the node starts no process for it. Otherwise the batch script makes it in the
   * node's TMPDIR and removes it.
   */
  inSpool: boolean;
  /** The staged input's file name in `input/` ('' when there is none). */
  inputName: string;
}

export interface ShellTaskContext {
  /** The platform's S3 endpoint as the nodes reach it; null when the executor has none. */
  endpoint: string | null;
  region: string;
  /** The job's scoped key; null without storage. */
  key: ScopedKey | null;
  /** Where the job's folder is: in the spool, or in the node's TMPDIR (the executor's `jobFolder`). */
  jobFolder: 'spool' | 'node';
  /** The script's sandbox on the node; null for none (the executor's `sandbox: none`). */
  sandbox: {
    /** The Landlock helper, tried first; null for bubblewrap only (`sandbox: bwrap`). */
    landlockPath: string | null;
    /** bubblewrap, where the node has no Landlock; null for Landlock only (`sandbox: landlock`). */
    bwrapPath: string | null;
    /** Fail the job on a node without the sandbox (`landlock`, `bwrap`) instead of running it bare. */
    required: boolean;
    /** Folders hidden from the script (those a node has): the spool, the data folder, `hiddenPaths`. */
    hiddenDirs: string[];
  } | null;
}

/** Longest a presigned URL may live (SigV4's limit). */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
/** Largest http body carried in the task's file itself (beyond it, a file of its own). */
const MAX_INLINE_BODY_BYTES = 64 * 1024;
/** Stands for the job's folder on the node in values built here. */
const WORK_MARK = '\u0001nubes-work';
/** Grace between timeout(1)'s TERM and KILL, as the supervisor's (DEFAULT_KILL_GRACE_MS). */
const KILL_GRACE_SECONDS = 2;

/** The shell task for `invocation`, or why it needs the Node supervisor. */
export function planShellTask(
  invocation: Invocation,
  context: ShellTaskContext,
): { task: ShellTask } | { fallback: string } {
  const service = invocation.service;
  const foreignOutput = service.output.find((output) => output.provider !== DEFAULT_PROVIDER);
  if (foreignOutput !== undefined) return { fallback: `output on provider ${foreignOutput.provider}` };
  const event = parseEvent(invocation.event);
  if (event.kind === 'storage' && event.provider !== DEFAULT_PROVIDER) {
    return { fallback: `input on provider ${event.provider}` };
  }
  const needsStore = event.kind === 'storage' || service.output.length > 0;
  const { endpoint, key } = context;
  if (needsStore && (endpoint === null || key === null)) return { fallback: 'no S3 endpoint' };

  const lines: string[] = [];
  const assign = (name: string, value: string) => lines.push(`${name}=${shellQuote(value)}`);
  if (key !== null && endpoint !== null) {
    assign('nubes_key_id', key.accessKeyId);
    assign('nubes_key_secret', key.secretAccessKey);
    assign('nubes_endpoint', endpoint.replace(/\/+$/, ''));
  }
  assign('nubes_region', context.region);
  const inSpool = context.jobFolder === 'spool';
  if (!inSpool) assign('nubes_folder', `nubes-job-${randomBytes(12).toString('hex')}`);

  let inputName = '';
  let body: Buffer | null = null;
  let inlineBody = '';
  let inputUrl = '';
  if (event.kind === 'storage' && key !== null && endpoint !== null) {
    inputName = inputFileName(event.key);
    inputUrl = presignUrl({
      method: 'GET',
      endpoint,
      bucket: event.bucket,
      key: event.key,
      accessKeyId: key.accessKeyId,
      secretKey: key.secretAccessKey,
      region: context.region,
      expiresSeconds: Math.max(
        1,
        Math.min(MAX_PRESIGN_SECONDS, Math.floor((key.expiresMs - Date.now()) / 1000)),
      ),
    });
  } else if (event.kind === 'http') {
    // The supervisor stages every non-storage event as the decoded body, by OSCAR's rule.
    inputName = `event-file-${randomUUID()}`;
    const decoded = decodeHttpBody(Buffer.from(invocation.event, 'utf8')).data;
    const text = decoded.toString('utf8');
    const fitsInline =
      decoded.length <= MAX_INLINE_BODY_BYTES && !decoded.includes(0) && Buffer.from(text).equals(decoded);
    if (inSpool || !fitsInline) body = decoded;
    else inlineBody = text;
  }
  assign('nubes_input_url', inputUrl);
  assign('nubes_input_name', inputName);
  if (!inSpool) {
    lines.push(body === null ? "nubes_body_file=''" : 'nubes_body_file="$dir/$task.in"');
    // Text only: the file is written as UTF-8 (the shell carries any bytes but NUL, the file's encoding not).
    lines.push(`nubes_body=${shellQuote(inlineBody)}`);
  }

  const { env, notes } = buildJobEnvironment({
    jobId: invocation.jobId,
    service,
    event: event.kind === 'storage' ? event.event : invocation.event,
    object: event.kind === 'storage' ? { key: event.key, eventTimeIso: event.eventTimeIso } : null,
    workDir: WORK_MARK,
    inputDir: `${WORK_MARK}/input`,
    outputDir: `${WORK_MARK}/output`,
    inputFilePath: inputName === '' ? null : `${WORK_MARK}/input/${inputName}`,
  });
  assign('nubes_notes', notes.map((note) => `[nubes] ${note}\n`).join(''));

  const timeoutSeconds = service.timeoutMs > 0 ? String(service.timeoutMs / 1000) : '';
  assign('nubes_timeout', timeoutSeconds);
  const script = {
    name: `script-${createHash('sha256').update(service.script).digest('hex').slice(0, 16)}.sh`,
    content: service.script,
  };
  lines.push(`nubes_script="$dir"/${script.name}`);
  const sandbox = context.sandbox;
  assign('nubes_landlock', sandbox?.landlockPath ?? '');
  assign('nubes_bwrap', sandbox?.bwrapPath ?? '');
  assign('nubes_sandbox_required', sandbox?.required === true ? '1' : '');
  // One folder a line (the supervisor splits them so; the configuration refuses paths with line breaks).
  assign('nubes_hide', sandbox?.hiddenDirs.join('\n') ?? '');
  const command = service.script.startsWith('#!') ? '"$nubes_script"' : '/bin/sh "$nubes_script"';
  const timeout =
    timeoutSeconds === '' ? '' : `"$nubes_timeout_command" -k ${KILL_GRACE_SECONDS} ${timeoutSeconds} `;
  // Run in the job's subshell once it has unset all but the node's variables: the job's override them. Its
  // arguments are the sandbox's command line (the Landlock helper or bwrap, and its options), or none.
  const words = Object.entries(env).map(([name, value]) => environmentWord(name, value));
  lines.push(
    `nubes_run() {\n  export \\\n    ${words.join(' \\\n    ')}\n  exec ${timeout}"$@" ${command}\n}`,
  );
  lines.push(matchFunction(service.output));
  return { task: { file: `${lines.join('\n')}\n`, script, body, inSpool, inputName } };
}

/** `NAME=value` quoted for the shell, the job's folder written as `$nubes_work`. */
function environmentWord(name: string, value: string): string {
  if (!value.startsWith(WORK_MARK)) return shellQuote(`${name}=${value}`);
  const rest = value.slice(WORK_MARK.length);
  return `${shellQuote(`${name}=`)}"$nubes_work"${rest === '' ? '' : shellQuote(rest)}`;
}

/** `nubes_match NAME`: uploads the file to every output whose prefixes and suffixes match, in order. */
function matchFunction(outputs: StorageIoSpec[]): string {
  const body = outputs.map((output) => {
    const prefixes =
      output.prefixes.length === 0 ? '*' : output.prefixes.map((p) => `${shellQuote(p)}*`).join(' | ');
    const suffixes =
      output.suffixes.length === 0 ? '*' : output.suffixes.map((s) => `*${shellQuote(s)}`).join(' | ');
    const folder = output.folder === '' ? '' : `${output.folder}/`;
    const put = [
      awsEncode(output.bucket),
      jsonBody(output.bucket),
      awsEncode(folder, true),
      jsonBody(folder),
    ].map(shellQuote);
    return `  case $1 in ${prefixes}) case $1 in ${suffixes}) nubes_put ${put.join(' ')} || return 1 ;; esac ;; esac`;
  });
  return ['nubes_match() {', ...body, '  return 0', '}'].join('\n');
}

/** A string's JSON form without its quotes. */
function jsonBody(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}
