/**
 * @module supervisor/launch-argv
 * The tiny `/bin/sh` wrapper every job is started through. Node cannot place a child in a cgroup or set an
 * rlimit between fork and exec, so the wrapper does it in the child itself, before the script (or bwrap)
 * is exec'd: it writes its own pid into each cgroup.procs file, applies the address-space limit, sends
 * stderr into stdout (one pipe keeps the log in the order things were written), then execs the command.
 * It costs one exec of dash (about a millisecond) and no extra long-lived process.
 */

/** Exit status of the wrapper when it could not join a cgroup; the shell's message is in the log. */
export const WRAPPER_SETUP_FAILED_EXIT = 125;

export interface LaunchWrapperOptions {
  /** `cgroup.procs` files to join, in order (one per v1 controller, or one for v2). */
  cgroupProcsFiles: string[];
  /** RLIMIT_AS for the whole job's processes, in bytes; null = none (used when no cgroup can be written). */
  addressSpaceBytes: number | null;
  /** The command to exec (bwrap …, or the script's argv). */
  command: string[];
}

/** Builds the argv that starts `command` through the wrapper. Paths travel as arguments, never as code. */
export function buildLaunchArgv(options: LaunchWrapperOptions): string[] {
  const lines = ['exec 2>&1'];
  lines.push(
    `while [ "$1" != -- ]; do echo $$ > "$1" || exit ${WRAPPER_SETUP_FAILED_EXIT}; shift; done; shift`,
  );
  if (options.addressSpaceBytes !== null) {
    // `ulimit -v` is RLIMIT_AS in KiB, what `prlimit --as` sets, without exec'ing prlimit.
    const kib = Math.max(1, Math.ceil(options.addressSpaceBytes / 1024));
    lines.push(`ulimit -v ${kib} || exit ${WRAPPER_SETUP_FAILED_EXIT}`);
  }
  lines.push('exec "$@"');
  return [
    '/bin/sh',
    '-c',
    lines.join('\n'),
    'nubes-job',
    ...options.cgroupProcsFiles,
    '--',
    ...options.command,
  ];
}
