#!/usr/bin/env node
// The `nubes` command: runs the compiled CLI (built by `npm install` through the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('nubes: not built yet; run `npm install` (or `npm run build`) in the project folder first');
  process.exit(2);
}
await import(entry.href);
