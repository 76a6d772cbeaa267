/**
 * @module test/support/exit-hooks
 * What a test file started (servers, daemons) is stopped when the file's process ends without its `after`
 * hooks: the runner forced its exit once its tests were done, or stopped it with SIGTERM when it ran past its
 * time. A hook must be synchronous (it runs on the process's `exit`).
 */

let signalHandled = false;

/** Runs `hook` when this process exits; the function returned removes it. */
export function onProcessExit(hook: () => void): () => void {
  if (!signalHandled) {
    signalHandled = true;
    // Without a handler SIGTERM ends the process without its `exit` event; exit with the same status.
    process.once('SIGTERM', () => process.exit(143));
  }
  process.once('exit', hook);
  return () => process.off('exit', hook);
}
