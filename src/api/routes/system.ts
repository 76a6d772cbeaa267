/**
 * @module api/routes/system
 * OSCAR's cluster endpoints: /health, /system/info, /system/config, /system/status.
 */
import type { FastifyInstance } from 'fastify';
import { arch, cpus, freemem, totalmem, hostname } from 'node:os';
import { requireAdmin } from '../auth.js';
import type { ApiContext } from '../context.js';

export function systemRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/health', async (_request, reply) => reply.type('text/plain').send('Ok'));

  app.get('/system/info', async (request) => {
    requireAdmin(request, ctx.config);
    return {
      version: ctx.version,
      git_commit: '',
      architecture: arch(),
      kubernetes_version: '',
      serverless_backend: { name: 'nubes-local', version: ctx.version },
      executors: ctx.executorNames(),
    };
  });

  app.get('/system/config', async (request) => {
    requireAdmin(request, ctx.config);
    return {
      config: {
        name: 'nubes',
        namespace: 'nubes',
        services_namespace: 'nubes-svc',
        gpu_available: false,
        interLink_available: false,
        serverless_backend: 'nubes-local',
        yunikorn_enable: false,
        kueue_enable: false,
        volume_enable: false,
        oidc_groups: [],
        minio_quota_enabled: false,
      },
      minio_provider: {
        endpoint: ctx.s3Url(),
        verify: false,
        access_key: ctx.config.s3AccessKey,
        secret_key: ctx.config.s3SecretKey,
        region: ctx.config.region,
      },
      allowed_image_repositories: [],
    };
  });

  app.get('/system/status', async (request) => {
    requireAdmin(request, ctx.config);
    const counts = ctx.queue.counts();
    const buckets = await ctx.store.listBuckets();
    const cores = cpus().length;
    return {
      cluster: {
        nodes_count: 1,
        metrics: {
          cpu: { total_free_cores: Math.max(0, cores - ctx.limiter.running), max_free_on_node_cores: cores },
          memory: { total_free_bytes: freemem(), max_free_on_node_bytes: freemem() },
          gpu: { total_gpu: 0 },
        },
        nodes: [
          {
            name: hostname(),
            cpu: { capacity_cores: cores, usage_cores: ctx.limiter.running },
            memory: { capacity_bytes: totalmem(), usage_bytes: totalmem() - freemem() },
            gpu: 0,
            is_interlink: false,
            status: 'Ready',
          },
        ],
      },
      oscar: {
        deployment_name: 'nubes',
        ready: true,
        jobs_count: counts.queued + counts.running,
        pods: {
          total: counts.running,
          states: {
            Pending: counts.queued,
            Running: counts.running,
            Succeeded: counts.succeeded,
            Failed: counts.failed,
          },
        },
        oidc: { enabled: false, issuers: [], groups: [] },
      },
      minio: { buckets_count: buckets.length, total_objects: null },
      nubes: { jobs: counts, slots: { capacity: ctx.limiter.capacity, running: ctx.limiter.running } },
    };
  });
}
