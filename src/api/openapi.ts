/**
 * @module api/openapi
 * The OpenAPI 3.1 document of the REST API, served at /openapi.json. Paths come from the routes fastify
 * actually registered (collected by an onRoute hook), so no route is missing; what each one does comes from
 * the table in `openapi-descriptions.ts`, which a test checks against the registered routes.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import { requireAdmin } from './auth.js';
import type { ApiContext } from './context.js';
import { ROUTE_DESCRIPTIONS, type RouteDescription } from './openapi-descriptions.js';

export interface RegisteredRoute {
  method: string;
  /** fastify's form, e.g. /system/services/:name */
  url: string;
}

/** Routes that are not part of the REST API proper (the dashboard's files). */
function isHidden(url: string): boolean {
  return url === '/ui' || url.startsWith('/ui/') || url === '/';
}

/** Collects every route registered on `app` from now on (call before registering routes). */
export function collectRoutes(app: FastifyInstance): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      // fastify adds a HEAD route beside every GET: documented once, as the GET.
      if (method === 'HEAD' || isHidden(route.url)) continue;
      routes.push({ method, url: route.url });
    }
  });
  return routes;
}

/** `/system/logs/:svc/:job` -> `/system/logs/{svc}/{job}`; `*` -> `{path}`. */
export function toOpenApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{path}');
}

function pathParameters(path: string): Record<string, unknown>[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((match) => ({
    name: match[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
}

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
    },
  },
};

function operation(route: RegisteredRoute, path: string, description: RouteDescription | undefined) {
  const auth = description?.auth ?? 'admin';
  const security =
    auth === 'none'
      ? []
      : auth === 'service'
        ? [{ basicAuth: [] }, { serviceToken: [] }]
        : [{ basicAuth: [] }];
  const responses: Record<string, unknown> = {
    [description?.status ?? '200']: {
      description: description?.response ?? 'success',
      ...(description?.responseType
        ? { content: { [description.responseType]: { schema: description.responseSchema ?? {} } } }
        : {}),
    },
    default: {
      description: "an error: `{ error: { code, message, details } }` with the code's status",
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    },
  };
  if (auth !== 'none') {
    responses['401'] = {
      description: 'missing or wrong credentials',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return {
    operationId: `${route.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: description?.summary ?? `${route.method} ${path}`,
    ...(description?.description ? { description: description.description } : {}),
    tags: [description?.tag ?? 'nubes'],
    security,
    parameters: [...pathParameters(path), ...(description?.query ?? []).map((q) => ({ ...q, in: 'query' }))],
    ...(description?.body
      ? {
          requestBody: {
            required: true,
            content: { [description.body.type]: { schema: description.body.schema ?? {} } },
          },
        }
      : {}),
    responses,
  };
}

/** Builds the document from the registered routes. */
export function buildOpenApiDocument(routes: RegisteredRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const sorted = [...routes].sort((a, b) => a.url.localeCompare(b.url) || a.method.localeCompare(b.method));
  for (const route of sorted) {
    const path = toOpenApiPath(route.url);
    const entry = (paths[path] ??= {});
    entry[route.method.toLowerCase()] = operation(
      route,
      path,
      ROUTE_DESCRIPTIONS[`${route.method} ${route.url}`],
    );
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Nubes REST API',
      version,
      description:
        "OSCAR's REST API (paths and payloads as OSCAR's) plus Nubes additions. Errors are JSON " +
        '`{ "error": { "code", "message", "details" } }`.',
    },
    paths,
    components: {
      securitySchemes: {
        basicAuth: { type: 'http', scheme: 'basic', description: "the admin's user name and password" },
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          description: "a user's personal API token, an OIDC token, or a service's 64-hex token",
        },
      },
      schemas: { Error: ERROR_SCHEMA },
    },
  };
}

/** GET /openapi.json (admin only, as every endpoint but /health). */
export function openApiRoutes(app: FastifyInstance, ctx: ApiContext, routes: RegisteredRoute[]): void {
  let document: Record<string, unknown> | null = null;
  app.get('/openapi.json', async (request) => {
    requireAdmin(request, ctx.config);
    // Built on first use: every route is registered by then.
    document ??= buildOpenApiDocument(routes, ctx.version);
    return document;
  });
}
