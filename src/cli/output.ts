/**
 * @module cli/output
 * How results look on the terminal: aligned tables, YAML, ✓/✗ lines, `file:line:col` diagnostics,
 * sizes and times. Pure functions; colour only when asked for (a terminal).
 */
import { isAbsolute, relative } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';

/** An aligned table: upper-case headers, columns separated by two spaces, no trailing blanks. */
export function formatTable(headers: string[], rows: string[][]): string {
  const all = [headers.map((header) => header.toUpperCase()), ...rows];
  const widths = headers.map((_, column) => Math.max(...all.map((row) => displayWidth(row[column] ?? ''))));
  return all
    .map((row) =>
      row
        .map((cell, column) =>
          column === row.length - 1 ? cell : cell + ' '.repeat((widths[column] ?? 0) - displayWidth(cell)),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function displayWidth(text: string): number {
  return [...text].length;
}

/** A value as YAML (block style, long strings such as scripts kept readable). */
export function formatYaml(value: unknown): string {
  return stringifyYaml(value, { lineWidth: 0, blockQuote: 'literal' });
}

/** The ✓ or ✗ that starts a result line, green or red on a terminal. */
export function mark(ok: boolean, color: boolean): string {
  const symbol = ok ? '✓' : '✗';
  if (!color) return symbol;
  return ok ? `\u001b[32m${symbol}\u001b[0m` : `\u001b[31m${symbol}\u001b[0m`;
}

/** A problem found in a file, as the FDL loader reports it. */
export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  path?: string;
  message: string;
  severity: 'error' | 'warning';
}

/** `file:line:col: severity: message`, the form editors and CI annotate; the file relative to `cwd` when inside it. */
export function formatDiagnostic(diagnostic: Diagnostic, cwd: string): string {
  const position = diagnostic.line > 0 ? `:${diagnostic.line}:${Math.max(diagnostic.column, 1)}` : '';
  const where = diagnostic.path ? ` (${diagnostic.path})` : '';
  return `${displayPath(diagnostic.file, cwd)}${position}: ${diagnostic.severity}: ${diagnostic.message}${where}`;
}

/** A path as the user would type it: relative to `cwd` when inside it, else as given. */
export function displayPath(file: string, cwd: string): string {
  if (!isAbsolute(file)) return file;
  const inside = relative(cwd, file);
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside) ? inside : file;
}

/** `n thing` or `n things`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Bytes in binary units: `512 B`, `1.5 KiB`, `3.2 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** An ISO time as `YYYY-MM-DD HH:MM:SS` (UTC); '' when absent, the input itself when it does not parse. */
export function formatTime(iso: string | Date | undefined): string {
  if (iso === undefined || iso === '') return '';
  const date = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toISOString().slice(0, 19).replace('T', ' ');
}
