/**
 * @module api/openapi-descriptions
 * What each REST route does, for the OpenAPI document; keyed `METHOD url` exactly as the route is
 * registered. A route missing here is still listed (with a generic summary); an entry whose route does not
 * exist fails a test.
 */

export interface RouteDescription {
  summary: string;
  description?: string;
  tag:
    | 'system'
    | 'services'
    | 'jobs'
    | 'invoke'
    | 'storage'
    | 'users'
    | 'mapreduce'
    | 'scheduler'
    | 'observability';
  /**
   * Who may call: the admin only; the admin, a user the resource admits, or the service's token; any
   * authenticated caller (what it sees depends on who it is); or anyone. @default admin
   */
  auth?: 'admin' | 'service' | 'any' | 'none';
  query?: { name: string; description: string; schema: Record<string, unknown> }[];
  body?: { type: string; schema?: Record<string, unknown> };
  /** Success status. @default 200 */
  status?: string;
  response?: string;
  responseType?: string;
  responseSchema?: Record<string, unknown>;
}

const JSON_TYPE = 'application/json';
const str = { type: 'string' };
const int = { type: 'integer' };
const serviceJson = { type: 'object', description: "OSCAR's Service JSON", additionalProperties: true };

export const ROUTE_DESCRIPTIONS: Record<string, RouteDescription> = {
  'GET /health': {
    summary: 'Liveness check',
    tag: 'system',
    auth: 'none',
    response: 'Ok',
    responseType: 'text/plain',
  },
  'GET /system/info': { summary: 'Version and backend', tag: 'system', responseType: JSON_TYPE },
  'GET /system/config': {
    summary: 'Cluster configuration and S3 credentials',
    tag: 'system',
    responseType: JSON_TYPE,
  },
  'GET /system/status': {
    summary: 'Cluster, job and storage status',
    tag: 'system',
    responseType: JSON_TYPE,
  },
  'GET /system/services': {
    summary: 'List services',
    tag: 'services',
    responseType: JSON_TYPE,
    responseSchema: { type: 'array', items: serviceJson },
  },
  'POST /system/services': {
    summary: 'Create a service',
    tag: 'services',
    body: { type: JSON_TYPE, schema: serviceJson },
    status: '201',
    response: '`{ name, token, warnings }`',
    responseType: JSON_TYPE,
  },
  'PUT /system/services': {
    summary: 'Update a service',
    tag: 'services',
    body: { type: JSON_TYPE, schema: serviceJson },
    status: '204',
    response: 'updated; warnings in the `x-nubes-warnings` header',
  },
  'GET /system/services/:name': {
    summary: 'Get a service (with its token and job counts)',
    tag: 'services',
    responseType: JSON_TYPE,
    responseSchema: serviceJson,
  },
  'DELETE /system/services/:name': {
    summary: 'Delete a service (its buckets and files are kept)',
    tag: 'services',
    status: '204',
  },
  'POST /system/fdl/validate': {
    summary: 'Validate FDL text',
    description:
      'Parses an FDL file (OSCAR v3/v4 or SCAR) with the scripts it names and answers every problem at its line and column.',
    tag: 'services',
    auth: 'any',
    body: {
      type: JSON_TYPE,
      schema: {
        type: 'object',
        required: ['fdl'],
        properties: {
          fdl: str,
          scripts: {
            type: 'object',
            additionalProperties: str,
            description: 'script path as written -> text',
          },
        },
      },
    },
    response: '`{ valid, services, diagnostics, warnings }`',
    responseType: JSON_TYPE,
  },
  'POST /system/fdl/apply': {
    summary: 'Create or update the services of FDL text',
    description: 'Invalid FDL fails with FDL_INVALID (or FDL_SYNTAX) and `details.diagnostics`.',
    tag: 'services',
    auth: 'any',
    body: { type: JSON_TYPE, schema: { type: 'object', required: ['fdl'] } },
    response: '`{ services: [{ name, action, token, warnings }] }`',
    responseType: JSON_TYPE,
  },
  'GET /system/logs/:svc': {
    summary: 'List the jobs of a service (70 a page, newest first)',
    tag: 'jobs',
    query: [
      { name: 'page', description: 'page number from 0', schema: int },
      {
        name: 'status',
        description: 'comma-separated: Pending, Running, Succeeded, Failed, Cancelled',
        schema: str,
      },
    ],
    responseType: JSON_TYPE,
  },
  'DELETE /system/logs/:svc': {
    summary: 'Delete finished jobs (`?all=true`: every job)',
    tag: 'jobs',
    status: '204',
  },
  'GET /system/logs/:svc/:job': { summary: "A job's log", tag: 'jobs', responseType: 'text/plain' },
  'DELETE /system/logs/:svc/:job': { summary: 'Delete (and cancel) a job', tag: 'jobs', status: '204' },
  'GET /system/logs/:svc/:job/follow': {
    summary: "Follow a job's log (server-sent events)",
    description: 'Events: `log` (text appended), `job` (status changed), `end` (the job finished).',
    tag: 'jobs',
    auth: 'any',
    responseType: 'text/event-stream',
  },
  'POST /system/logs/:svc/:job/retry': {
    summary: 'Retry a finished job (re-drive a dead letter)',
    tag: 'jobs',
    status: '202',
    responseType: JSON_TYPE,
  },
  'GET /system/jobs/:svc/:job': {
    summary: 'One job: status, timings, exit code',
    tag: 'jobs',
    responseType: JSON_TYPE,
  },
  'GET /system/dead-letters': {
    summary: 'Jobs that failed for good',
    tag: 'jobs',
    query: [{ name: 'service', description: 'only this service', schema: str }],
    responseType: JSON_TYPE,
  },
  'GET /system/events': {
    summary: 'Live job changes (server-sent events)',
    description:
      'Events: `jobs` (changed jobs, batched), `counts` (job counts per service), `resync` (too many changes: reload).',
    tag: 'jobs',
    auth: 'any',
    query: [{ name: 'service', description: 'only this service', schema: str }],
    responseType: 'text/event-stream',
  },
  'GET /system/stats': {
    summary: 'Job counts per service and status',
    tag: 'jobs',
    auth: 'any',
    responseType: JSON_TYPE,
  },
  'GET /system/stats/:svc': {
    summary: 'Jobs per minute, duration distribution, queue depth over time',
    tag: 'jobs',
    auth: 'any',
    query: [{ name: 'minutes', description: 'window (default 60)', schema: int }],
    responseType: JSON_TYPE,
  },
  'POST /system/storage-events/:service/:provider': {
    summary: 'Storage notification from an external MinIO or S3 service (webhook)',
    description:
      'S3/MinIO/RGW event records; one job per record and matching input, committed before the answer. ' +
      'Authenticated by the webhook token (`Authorization: Bearer` or `?token=`).',
    tag: 'invoke',
    auth: 'none',
    body: { type: JSON_TYPE },
    responseType: JSON_TYPE,
  },
  'GET /system/services/:name/storage-webhooks': {
    summary: "The webhook URLs (with their tokens) of a service's external inputs",
    tag: 'services',
    responseType: JSON_TYPE,
  },
  'POST /job/:name': {
    summary: 'Invoke a service asynchronously (one job)',
    tag: 'invoke',
    auth: 'service',
    body: { type: '*/*' },
    status: '201',
    responseType: JSON_TYPE,
  },
  'POST /run/:name': {
    summary: 'Invoke a service synchronously',
    description: "OSCAR's answer rules (base64); `?raw=true` answers the raw bytes.",
    tag: 'invoke',
    auth: 'service',
    body: { type: '*/*' },
    query: [{ name: 'raw', description: 'true: raw bytes instead of base64', schema: str }],
    responseType: '*/*',
  },
  'GET /system/storage/:bucket': {
    summary: 'List a folder of a bucket',
    tag: 'storage',
    auth: 'any',
    query: [
      { name: 'prefix', description: 'folder, ending in /', schema: str },
      { name: 'start_after', description: 'continue after this key', schema: str },
    ],
    responseType: JSON_TYPE,
  },
  'GET /system/storage/:bucket/object': {
    summary: 'Download a file',
    tag: 'storage',
    auth: 'any',
    query: [{ name: 'key', description: 'object key', schema: str }],
    responseType: 'application/octet-stream',
  },
  'PUT /system/storage/:bucket/object': {
    summary: 'Upload a file (streamed; starts the services whose input matches)',
    tag: 'storage',
    auth: 'any',
    query: [{ name: 'key', description: 'object key', schema: str }],
    body: { type: '*/*' },
    responseType: JSON_TYPE,
  },
  'DELETE /system/storage/:bucket/object': {
    summary: 'Delete a file',
    tag: 'storage',
    auth: 'any',
    query: [{ name: 'key', description: 'object key', schema: str }],
    status: '204',
  },
  'POST /system/buckets': {
    summary: 'Create a bucket',
    tag: 'storage',
    body: {
      type: JSON_TYPE,
      schema: {
        type: 'object',
        properties: {
          bucket_name: str,
          visibility: { enum: ['private', 'public', 'restricted'] },
          allowed_users: { type: 'array', items: str },
        },
      },
    },
    status: '201',
    responseType: JSON_TYPE,
  },
  'GET /system/buckets': { summary: 'List buckets', tag: 'storage', responseType: JSON_TYPE },
  'PUT /system/buckets': {
    summary: "Update a bucket's visibility and allowed users",
    tag: 'storage',
    body: { type: JSON_TYPE },
    responseType: JSON_TYPE,
  },
  'GET /system/buckets/:bucket': {
    summary: 'A bucket and its objects (paginated)',
    tag: 'storage',
    query: [
      { name: 'prefix', description: 'only keys starting with this', schema: str },
      { name: 'page', description: 'the `next_page` of the previous answer', schema: str },
      { name: 'limit', description: 'objects per page', schema: int },
    ],
    responseType: JSON_TYPE,
  },
  'DELETE /system/buckets/:bucket': {
    summary: 'Delete a bucket with its objects',
    tag: 'storage',
    status: '204',
  },
  'POST /system/buckets/:bucket/presign': {
    summary: 'A presigned S3 URL to upload or download one object',
    tag: 'storage',
    body: {
      type: JSON_TYPE,
      schema: {
        type: 'object',
        required: ['object_key', 'operation'],
        properties: { object_key: str, operation: { enum: ['upload', 'download'] }, expires_in: int },
      },
    },
    responseType: JSON_TYPE,
  },
  'POST /system/storage/:bucket/uploads': {
    summary: 'Start a multipart upload',
    tag: 'storage',
    auth: 'any',
    body: { type: JSON_TYPE, schema: { type: 'object', required: ['key'], properties: { key: str } } },
    status: '201',
    responseType: JSON_TYPE,
  },
  'PUT /system/storage/:bucket/uploads/:upload/:part': {
    summary: 'Upload one part (numbered from 1)',
    tag: 'storage',
    auth: 'any',
    body: { type: '*/*' },
    responseType: JSON_TYPE,
  },
  'POST /system/storage/:bucket/uploads/:upload/complete': {
    summary: 'Complete a multipart upload: the parts in order become the file',
    tag: 'storage',
    auth: 'any',
    body: { type: JSON_TYPE, schema: { type: 'object', required: ['parts'], properties: { parts: int } } },
    responseType: JSON_TYPE,
  },
  'DELETE /system/storage/:bucket/uploads/:upload': {
    summary: 'Abort a multipart upload',
    tag: 'storage',
    auth: 'any',
    status: '204',
  },
  'GET /system/whoami': {
    summary: 'Who the credentials name: the admin, a user (with quotas and usage), a service token',
    tag: 'users',
    auth: 'any',
    responseType: JSON_TYPE,
  },
  'GET /system/users': { summary: 'List users', tag: 'users', responseType: JSON_TYPE },
  'POST /system/users': {
    summary: 'Create a user',
    tag: 'users',
    body: { type: JSON_TYPE },
    status: '201',
    responseType: JSON_TYPE,
  },
  'GET /system/users/:name': {
    summary: 'A user, with quotas and usage',
    tag: 'users',
    responseType: JSON_TYPE,
  },
  'PUT /system/users/:name': {
    summary: "Update a user's groups and quotas",
    tag: 'users',
    body: { type: JSON_TYPE },
    responseType: JSON_TYPE,
  },
  'DELETE /system/users/:name': { summary: 'Delete a user', tag: 'users', status: '204' },
  'GET /system/users/:name/tokens': {
    summary: "A user's personal API tokens (`me` for oneself)",
    tag: 'users',
    auth: 'any',
    responseType: JSON_TYPE,
  },
  'POST /system/users/:name/tokens': {
    summary: 'Create a personal API token (shown once)',
    tag: 'users',
    auth: 'any',
    body: { type: JSON_TYPE },
    status: '201',
    responseType: JSON_TYPE,
  },
  'DELETE /system/users/:name/tokens/:id': {
    summary: 'Revoke a personal API token',
    tag: 'users',
    auth: 'any',
    status: '204',
  },
  'GET /system/users/:name/s3-keys': {
    summary: "A user's S3 access keys",
    tag: 'users',
    auth: 'any',
    responseType: JSON_TYPE,
  },
  'POST /system/users/:name/s3-keys': {
    summary: 'Create an S3 access key scoped to the user (secret shown once)',
    tag: 'users',
    auth: 'any',
    status: '201',
    responseType: JSON_TYPE,
  },
  'DELETE /system/users/:name/s3-keys/:key': {
    summary: 'Delete an S3 access key',
    tag: 'users',
    auth: 'any',
    status: '204',
  },
  'POST /system/mapreduce/jobs': {
    summary: 'Run a MapReduce job now (input: one object or a folder)',
    tag: 'mapreduce',
    body: { type: JSON_TYPE },
    status: '201',
    responseType: JSON_TYPE,
  },
  'GET /system/mapreduce/jobs': { summary: 'List MapReduce jobs', tag: 'mapreduce', responseType: JSON_TYPE },
  'GET /system/mapreduce/jobs/:id': {
    summary: 'A MapReduce job with the progress of each task',
    tag: 'mapreduce',
    responseType: JSON_TYPE,
  },
  'DELETE /system/mapreduce/jobs/:id': {
    summary: 'Cancel a running MapReduce job, or remove a finished one',
    tag: 'mapreduce',
    status: '204',
  },
  'GET /system/mapreduce/jobs/:id/tasks/:task/log': {
    summary: "A MapReduce task's log",
    tag: 'mapreduce',
    query: [{ name: 'attempt', description: 'attempt number (default: the last)', schema: int }],
    responseType: 'text/plain',
  },
  'GET /system/mapreduce/definitions': {
    summary: 'MapReduce definitions (jobs started by uploads)',
    tag: 'mapreduce',
    responseType: JSON_TYPE,
  },
  'GET /system/mapreduce/definitions/:name': {
    summary: 'A MapReduce definition',
    tag: 'mapreduce',
    responseType: JSON_TYPE,
  },
  'PUT /system/mapreduce/definitions/:name': {
    summary: 'Create or replace a MapReduce definition',
    tag: 'mapreduce',
    body: { type: JSON_TYPE },
    responseType: JSON_TYPE,
  },
  'DELETE /system/mapreduce/definitions/:name': {
    summary: 'Delete a MapReduce definition',
    tag: 'mapreduce',
    status: '204',
  },
  'GET /metrics': {
    summary: 'Prometheus metrics',
    tag: 'observability',
    responseType: 'text/plain',
  },
  'POST /system/scheduler/tenants': {
    summary: 'Create a scheduler tenant (answers its token once)',
    tag: 'scheduler',
    auth: 'admin',
    body: { type: JSON_TYPE },
    status: '201',
    responseType: JSON_TYPE,
  },
  'GET /system/scheduler/tenants': {
    summary: 'List scheduler tenants',
    tag: 'scheduler',
    auth: 'admin',
    responseType: JSON_TYPE,
  },
  'POST /system/scheduler/sites': {
    summary: 'Create an infrastructure (site) with its own token',
    tag: 'scheduler',
    auth: 'any',
    body: { type: JSON_TYPE },
    status: '201',
    responseType: JSON_TYPE,
  },
  'GET /system/scheduler/sites': {
    summary: 'List sites',
    tag: 'scheduler',
    auth: 'any',
    responseType: JSON_TYPE,
  },
  'POST /system/scheduler/sites/:site/register': {
    summary: 'A site declares its slots (site token)',
    tag: 'scheduler',
    auth: 'any',
    body: { type: JSON_TYPE },
    responseType: JSON_TYPE,
  },
  'POST /system/scheduler/sites/:site/lease': {
    summary: 'A site pulls partitions on leases (site token)',
    tag: 'scheduler',
    auth: 'any',
    body: { type: JSON_TYPE },
    responseType: JSON_TYPE,
  },
  'POST /system/scheduler/sites/:site/heartbeat': {
    summary: 'A site renews its leases and learns which to stop (site token)',
    tag: 'scheduler',
    auth: 'any',
    body: { type: JSON_TYPE },
    responseType: JSON_TYPE,
  },
  'POST /system/scheduler/jobs': {
    summary: 'Submit a divisible job (Idempotency-Key honoured)',
    tag: 'scheduler',
    auth: 'any',
    body: { type: JSON_TYPE },
    status: '201',
    responseType: JSON_TYPE,
  },
  'GET /system/scheduler/jobs': {
    summary: 'List the scheduler jobs of the tenant',
    tag: 'scheduler',
    auth: 'any',
    responseType: JSON_TYPE,
  },
  'GET /system/scheduler/jobs/:id': {
    summary: 'A scheduler job with its partitions and forecast',
    tag: 'scheduler',
    auth: 'any',
    responseType: JSON_TYPE,
  },
  'POST /system/scheduler/jobs/:id/cancel': {
    summary: 'Cancel a scheduler job',
    tag: 'scheduler',
    auth: 'any',
    responseType: JSON_TYPE,
  },
  'GET /system/scheduler/jobs/:id/results': {
    summary: 'The reduced result of the job',
    tag: 'scheduler',
    auth: 'any',
    responseType: JSON_TYPE,
  },
  'POST /system/scheduler/jobs/:id/partitions/:index/start': {
    summary: 'A partition starts: answers its assigned iterations and report interval (partition token)',
    tag: 'scheduler',
    auth: 'any',
    body: { type: JSON_TYPE },
    responseType: JSON_TYPE,
  },
  'POST /system/scheduler/jobs/:id/partitions/:index/report': {
    summary: 'A partition reports (done, elapsed): answers assigned, ETA, next interval, stop',
    tag: 'scheduler',
    auth: 'any',
    body: { type: JSON_TYPE },
    responseType: JSON_TYPE,
  },
  'POST /system/scheduler/jobs/:id/partitions/:index/finish': {
    summary: 'A partition finishes with its result',
    tag: 'scheduler',
    auth: 'any',
    body: { type: JSON_TYPE },
    responseType: JSON_TYPE,
  },
  'POST /system/scheduler/jobs/:id/partitions/:index/fail': {
    summary: 'A partition reports a failure (retried up to the attempts of the job)',
    tag: 'scheduler',
    auth: 'any',
    body: { type: JSON_TYPE },
    status: '204',
  },
  'GET /lb/:capability/:action': {
    summary:
      'Legacy TaScaaS/RUPER-LB text protocol (start, report, finish); the capability in the path authorises',
    tag: 'scheduler',
    auth: 'none',
    responseType: 'text/plain',
  },
  'GET /openapi.json': { summary: 'This document', tag: 'observability', responseType: JSON_TYPE },
};
