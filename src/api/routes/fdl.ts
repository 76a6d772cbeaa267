/**
 * @module api/routes/fdl
 * Nubes additions: FDL text in, diagnostics out (each at its line and column), as `nubes fdl validate` and
 * `nubes apply` do from files. Scripts the FDL names come with the request, keyed by the path as written.
 *
 * POST /system/fdl/validate  { fdl, scripts? } -> { valid, services, mapreduce, diagnostics, warnings }
 * POST /system/fdl/apply     { fdl, scripts? } -> { services: [{ name, action, token, warnings }],
 *                                                   mapreduce: [{ name, action }] }
 * Scripts include the function files of the `mapreduce` section.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PlatformError, isErrorCode } from '../../core/index.js';
import { parseFdl, type FdlDiagnostic, type FdlDocument } from '../../fdl/index.js';
import { callerOf } from '../access.js';
import type { ApiContext } from '../context.js';

/** The name diagnostics give the text (`fdl.yaml:3:5: …`). */
const FDL_NAME = 'fdl.yaml';

const fdlRequestSchema = z
  .object({
    fdl: z.string().max(1024 * 1024),
    scripts: z.record(z.string()).optional(),
  })
  .strict();

function parseRequest(body: unknown): z.infer<typeof fdlRequestSchema> {
  const parsed = fdlRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PlatformError(
      'VALIDATION_FAILED',
      `body.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'} (expected { fdl, scripts? })`,
    );
  }
  return parsed.data;
}

function parse(request: z.infer<typeof fdlRequestSchema>): FdlDocument {
  const scripts = request.scripts ?? {};
  return parseFdl(request.fdl, {
    file: FDL_NAME,
    readScript: (path) => scripts[path] ?? scripts[path.replace(/^\.\//, '')],
  });
}

function diagnosticsOf(error: unknown): FdlDiagnostic[] | null {
  if (!(error instanceof PlatformError) || !error.code.startsWith('FDL_')) return null;
  const list = (error.details as { diagnostics?: FdlDiagnostic[] } | undefined)?.diagnostics;
  return Array.isArray(list) ? list : null;
}

function forwardedHeaders(request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (typeof request.headers.authorization === 'string')
    headers.authorization = request.headers.authorization;
  headers['x-request-id'] = request.id;
  return headers;
}

export function fdlRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/system/fdl/validate', async (request) => {
    callerOf(ctx, request);
    const input = parseRequest(request.body);
    try {
      const doc = parse(input);
      return {
        valid: true,
        services: doc.services.map((service) => service.json.name),
        mapreduce: doc.mapreduce.map((definition) => definition.name),
        diagnostics: [],
        warnings: doc.warnings,
      };
    } catch (error) {
      const diagnostics = diagnosticsOf(error);
      if (!diagnostics) throw error;
      return { valid: false, services: [], mapreduce: [], diagnostics, warnings: [] };
    }
  });

  app.post('/system/fdl/apply', async (request) => {
    callerOf(ctx, request);
    const doc = parse(parseRequest(request.body));
    const results: { name: string; action: 'created' | 'updated'; token: string; warnings: string[] }[] = [];
    // Through the service routes themselves, so that an FDL deploy is exactly a POST or PUT of its JSON
    // with the caller's credentials (and the same ownership and quota checks).
    for (const service of doc.services) {
      const exists = ctx.registry.find(service.json.name) !== undefined;
      const answer = await app.inject({
        method: exists ? 'PUT' : 'POST',
        url: '/system/services',
        headers: forwardedHeaders(request),
        payload: JSON.stringify(service.json),
      });
      if (answer.statusCode >= 400) {
        const failure = answer.json<{ error?: { code?: string; message?: string; details?: unknown } }>()
          .error;
        const code = failure?.code !== undefined && isErrorCode(failure.code) ? failure.code : 'INTERNAL';
        throw new PlatformError(code, `service "${service.json.name}": ${failure?.message ?? 'failed'}`, {
          details: { service: service.json.name, details: failure?.details, applied: results },
        });
      }
      const warnings = exists
        ? decodeURIComponent(String(answer.headers['x-nubes-warnings'] ?? ''))
            .split('\n')
            .filter(Boolean)
        : (answer.json<{ warnings?: string[] }>().warnings ?? []);
      const record = ctx.registry.get(service.json.name);
      results.push({
        name: record.name,
        action: exists ? 'updated' : 'created',
        token: record.token,
        warnings,
      });
    }
    const definitions: { name: string; action: 'created' | 'updated' }[] = [];
    for (const definition of doc.mapreduce) {
      const answer = await app.inject({
        method: 'PUT',
        url: `/system/mapreduce/definitions/${encodeURIComponent(definition.name)}`,
        headers: forwardedHeaders(request),
        payload: JSON.stringify(definition.json),
      });
      if (answer.statusCode >= 400) {
        const failure = answer.json<{ error?: { code?: string; message?: string; details?: unknown } }>()
          .error;
        const code = failure?.code !== undefined && isErrorCode(failure.code) ? failure.code : 'INTERNAL';
        throw new PlatformError(
          code,
          `MapReduce definition "${definition.name}": ${failure?.message ?? 'failed'}`,
          { details: { mapreduce: definition.name, details: failure?.details, applied: results } },
        );
      }
      definitions.push({ name: definition.name, action: answer.statusCode === 201 ? 'created' : 'updated' });
    }
    return { services: results, mapreduce: definitions, warnings: doc.warnings };
  });
}
