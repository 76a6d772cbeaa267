/**
 * @module cli/commands/fdl
 * `nubes fdl validate FILE…`: every error and warning of each file as `file:line:col: severity: message`,
 * exit code 1 if any file has an error. Needs no server.
 */
import type { Command } from 'commander';
import { println } from '../cli-io.js';
import { setExitCode, type CommandContext } from '../command-context.js';
import { EXIT_USER_ERROR } from '../error-output.js';
import { diagnosticsOf, loadFdl } from '../fdl-loader.js';
import { formatDiagnostic, mark, plural, type Diagnostic } from '../output.js';

/** The result of validating one file. */
export interface FileReport {
  file: string;
  services: number;
  diagnostics: Diagnostic[];
}

/** Adds `nubes fdl …`. */
export function registerFdlCommands(program: Command, ctx: CommandContext): void {
  const fdl = program.command('fdl').description('work with FDL files (OSCAR and SCAR service definitions)');
  fdl
    .command('validate')
    .aliases(['check', 'lint'])
    .description('check FDL files and print every problem as file:line:col (no server needed)')
    .argument('<files...>', 'FDL files')
    .action(async (files: string[]) => {
      const reports: FileReport[] = [];
      for (const file of files) reports.push(await validateFile(file));
      for (const report of reports) {
        for (const diagnostic of report.diagnostics)
          println(ctx.io.stdout, formatDiagnostic(diagnostic, ctx.io.cwd));
      }
      const summary = summarize(reports, ctx.io.stdoutIsTty);
      println(ctx.io.stdout, summary.line);
      if (summary.errors > 0) setExitCode(ctx, EXIT_USER_ERROR);
    });
}

async function validateFile(file: string): Promise<FileReport> {
  try {
    const loaded = await loadFdl(file);
    return { file, services: loaded.services.length, diagnostics: loaded.warnings };
  } catch (error) {
    return { file, services: 0, diagnostics: diagnosticsOf(error, file) };
  }
}

/** The closing line: `✓ 2 files valid (3 services), 1 warning` or `✗ 2 errors, 1 warning in 1 of 2 files`. */
export function summarize(reports: FileReport[], color: boolean): { line: string; errors: number } {
  const all = reports.flatMap((report) => report.diagnostics);
  const errors = all.filter((diagnostic) => diagnostic.severity === 'error').length;
  const warnings = all.length - errors;
  const warningText = warnings > 0 ? `, ${plural(warnings, 'warning')}` : '';
  if (errors === 0) {
    const services = reports.reduce((sum, report) => sum + report.services, 0);
    return {
      line: `${mark(true, color)} ${plural(reports.length, 'file')} valid (${plural(services, 'service')})${warningText}`,
      errors,
    };
  }
  const failing = reports.filter((report) =>
    report.diagnostics.some((diagnostic) => diagnostic.severity === 'error'),
  ).length;
  return {
    line: `${mark(false, color)} ${plural(errors, 'error')}${warningText} in ${failing} of ${plural(reports.length, 'file')}`,
    errors,
  };
}
