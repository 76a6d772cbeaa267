/**
 * @module cli/main
 * Entry point of the `nubes` command (bin/nubes.js loads the compiled file). Runs the command, waits
 * for stdout and stderr to drain, and exits with the command's code, so that a lingering keep-alive
 * socket never holds the process open.
 */
import { processIo } from './cli-io.js';
import { runCli } from './program.js';

function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableLength === 0) resolve();
    else stream.write('', () => resolve());
  });
}

// The AWS SDK prints a multi-line notice on Node < 22 about its releases of 2027 on every S3 command;
// Nubes supports Node 20 (package.json engines), so the notice is noise a user can do nothing about.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

// `nubes service list | head`: a reader that goes away is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

const code = await runCli(process.argv.slice(2), processIo());
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
