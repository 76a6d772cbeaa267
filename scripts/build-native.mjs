#!/usr/bin/env node
// Compiles the Landlock helper (native/nubes-landlock.c) into dist/native/nubes-landlock, statically linked
// so that compute nodes with another C library can run it (dynamically where no static libc is installed).
// Without a C compiler it says so and builds nothing: Slurm jobs then use bubblewrap (see the Slurm
// executor's `sandbox`).
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const source = `${root}native/nubes-landlock.c`;
const target = `${root}dist/native/nubes-landlock`;
const partial = `${target}.partial`;
const compiler = process.env.CC ?? 'cc';
mkdirSync(`${root}dist/native`, { recursive: true });

let lastError = '';
for (const linking of [['-static'], []]) {
  try {
    execFileSync(compiler, ['-O2', '-Wall', '-Wextra', '-Werror', ...linking, '-o', partial, source], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    renameSync(partial, target);
    process.exit(0);
  } catch (error) {
    lastError = (error.stderr?.toString() || error.message).trim().split('\n').slice(0, 3).join('\n');
  }
}
rmSync(partial, { force: true });
console.warn(
  `nubes: the Landlock helper was not built (${compiler}: ${lastError}); Slurm jobs will use bubblewrap`,
);
