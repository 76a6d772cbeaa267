/**
 * @module fdl/diagnostics
 * Problems found in an FDL file, each pinned to a line and column, and the one error that carries them.
 */
import type { Document, LineCounter } from 'yaml';
import type { z } from 'zod';
import { PlatformError, type ErrorCode } from '../core/index.js';
import { formatPath, locate, type ValuePath } from './yaml-tree.js';

/** One problem (or warning) of an FDL file. Lines and columns start at 1. */
export interface FdlDiagnostic {
  file: string;
  line: number;
  column: number;
  /** Where in the document, e.g. `functions.oscar[0].cowsay.memory` ('' for the whole file). */
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

/** `demo.yaml:12:7: functions.oscar[0].cowsay.memroy: unknown key "memroy"` */
export function formatDiagnostic(diagnostic: FdlDiagnostic): string {
  const where = `${diagnostic.file}:${diagnostic.line}:${diagnostic.column}`;
  return diagnostic.path
    ? `${where}: ${diagnostic.path}: ${diagnostic.message}`
    : `${where}: ${diagnostic.message}`;
}

/** Builds diagnostics located in one parsed document. */
export class DiagnosticSink {
  readonly errors: FdlDiagnostic[] = [];
  readonly warnings: FdlDiagnostic[] = [];

  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  /** Records a problem at `path`; `target: 'key'` points at the key rather than its value. */
  add(
    severity: 'error' | 'warning',
    path: ValuePath,
    message: string,
    target: 'key' | 'value' = 'value',
  ): void {
    const { line, column } = locate(this.doc, this.lineCounter, path, target);
    const diagnostic: FdlDiagnostic = {
      file: this.file,
      line,
      column,
      path: formatPath(path),
      message,
      severity,
    };
    (severity === 'error' ? this.errors : this.warnings).push(diagnostic);
  }

  error(path: ValuePath, message: string, target: 'key' | 'value' = 'value'): void {
    this.add('error', path, message, target);
  }

  warn(path: ValuePath, message: string, target: 'key' | 'value' = 'key'): void {
    this.add('warning', path, message, target);
  }

  /** Records every issue of a failed parse; `mapPath` translates a path of the parsed value to the source's. */
  addIssues(
    issues: readonly z.ZodIssue[],
    base: ValuePath = [],
    mapPath: (path: ValuePath) => ValuePath = (p) => p,
  ): void {
    for (const issue of issues) {
      const path = mapPath([...base, ...issue.path]);
      const onKey =
        issue.code === 'custom' &&
        (issue.params as { unknownKey?: boolean } | undefined)?.unknownKey === true;
      this.error(path, issue.message, onKey ? 'key' : 'value');
    }
  }
}

/** Sorts diagnostics by position, so messages read top to bottom like a compiler's. */
export function byPosition(a: FdlDiagnostic, b: FdlDiagnostic): number {
  return a.line - b.line || a.column - b.column;
}

/** The one error an FDL file fails with: the code, a message listing every problem, and the diagnostics. */
export function fdlError(code: ErrorCode, diagnostics: FdlDiagnostic[]): PlatformError {
  const sorted = [...diagnostics].sort(byPosition);
  return new PlatformError(code, sorted.map(formatDiagnostic).join('\n'), {
    details: { diagnostics: sorted },
  });
}
