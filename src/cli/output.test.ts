import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  displayPath,
  formatBytes,
  formatDiagnostic,
  formatTable,
  formatTime,
  formatYaml,
  mark,
  plural,
} from './output.js';

void test('tables align columns under upper-case headers, with no trailing blanks', () => {
  const table = formatTable(
    ['name', 'image', 'inputs'],
    [
      ['hello', 'busybox:1.36', ''],
      ['normalize', 'alpine', 'text/in'],
    ],
  );
  assert.equal(
    table,
    ['NAME       IMAGE         INPUTS', 'hello      busybox:1.36', 'normalize  alpine        text/in'].join(
      '\n',
    ),
  );
});

void test('diagnostics read file:line:col: severity: message, the file relative to the working folder', () => {
  const diagnostic = {
    file: '/work/p/fdl/a.yaml',
    line: 12,
    column: 7,
    path: 'functions.oscar[0].x.memroy',
    message: 'unknown key "memroy"',
    severity: 'error' as const,
  };
  assert.equal(
    formatDiagnostic(diagnostic, '/work/p'),
    'fdl/a.yaml:12:7: error: unknown key "memroy" (functions.oscar[0].x.memroy)',
  );
  assert.equal(
    formatDiagnostic({ ...diagnostic, file: 'a.yaml', path: '', severity: 'warning' }, '/work/p'),
    'a.yaml:12:7: warning: unknown key "memroy"',
  );
  assert.equal(
    formatDiagnostic({ ...diagnostic, line: 0, column: 0, path: '' }, '/elsewhere'),
    '/work/p/fdl/a.yaml: error: unknown key "memroy"',
  );
  assert.equal(displayPath('/work/other/a.yaml', '/work/p'), '/work/other/a.yaml');
});

void test('sizes, times, plurals, marks and YAML', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(20 * 1024 * 1024), '20 MiB');
  assert.equal(formatTime('2024-05-01T10:20:30.123Z'), '2024-05-01 10:20:30');
  assert.equal(formatTime(undefined), '');
  assert.equal(formatTime('soon'), 'soon');
  assert.equal(plural(1, 'file'), '1 file');
  assert.equal(plural(2, 'file'), '2 files');
  assert.equal(mark(true, false), '✓');
  assert.equal(mark(false, true), '\u001b[31m✗\u001b[0m');
  assert.equal(
    formatYaml({ name: 'x', script: '#!/bin/sh\necho hi\n' }),
    'name: x\nscript: |\n  #!/bin/sh\n  echo hi\n',
  );
});
