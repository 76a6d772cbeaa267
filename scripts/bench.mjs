#!/usr/bin/env node
// `npm run bench -- <name>`: runs the compiled benchmark dist/bench/<name>.js.
import { existsSync, readdirSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const name = process.argv[2];
const available = readdirSync(new URL('dist/bench/', root))
  .filter((file) => file.endsWith('.js') && !file.includes('.test.') && !file.startsWith('support'))
  .map((file) => file.replace(/\.js$/, ''));
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>   (available: ${available.join(', ')})`);
  process.exit(1);
}
const entry = new URL(`dist/bench/${name}.js`, root);
if (!existsSync(entry)) process.exit(1);
await import(entry.href);
