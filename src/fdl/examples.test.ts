import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadFdlFile } from './fdl-parser.js';
import { toServiceSpec } from './resolve-service.js';

// The FDL files the team ships in examples/ must all parse, with their scripts, and resolve.
const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

function fdlFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.ya?ml$/.test(name))
    .sort();
}

void test('examples/ is scanned', (t) => {
  assert.ok(existsSync(EXAMPLES), 'the examples folder exists');
  // Reported so that a run over an empty folder is visible rather than silently green.
  t.diagnostic(`examples/: ${fdlFiles(EXAMPLES).length} FDL file(s)`);
});

for (const file of fdlFiles(EXAMPLES)) {
  void test(`examples/${file} parses and resolves`, async () => {
    const doc = await loadFdlFile(`${EXAMPLES}${file}`);
    assert.ok(doc.services.length > 0, 'an example defines at least one service');
    for (const service of doc.services) toServiceSpec(service.json);
  });
}
