/**
 * @module api/routes/system
 * OSCAR's cluster endpoints: /health, /system/info, /system/config, /system/status.
 */
import type { FastifyInstance } from 'fastify';
import { arch, cpus, freemem, totalmem, hostname } from 'node:os';
import { authorize } from '../../auth/index.js';
import { principalOf, requireAdmin } from '../auth.js';
import type { ApiContext } from '../context.js';

export function systemRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/health', { config: { public: true } }, async (_request, reply) =>
    reply.type('text/plain').send('Ok'),
  );

  app.get('/system/info', async (request) => {
    authorize(principalOf(request, ctx.config), 'read', { kind: 'cluster' });
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
    const principal = principalOf(request, ctx.config);
    authorize(principal, 'read', { kind: 'cluster' });
    // The store's own keys are the admin's; a user sees their first personal S3 key (as OSCAR shows an OIDC
    // user their MinIO credentials), or none.
    let keys = { access_key: ctx.config.s3AccessKey, secret_key: ctx.config.s3SecretKey };
    if (principal.kind !== 'admin') {
      const first = principal.kind === 'user' ? ctx.auth.users.listS3Keys(principal.name)[0] : undefined;
      const secret = first ? ctx.auth.users.s3Secret(first.accessKey) : null;
      keys = { access_key: first?.accessKey ?? '', secret_key: secret?.secretKey ?? '' };
    }
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
        oidc_groups: ctx.auth.oidc.allowedGroups,
        minio_quota_enabled: false,
      },
      minio_provider: {
        endpoint: ctx.s3Url(),
        verify: false,
        ...keys,
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
        oidc: {
          enabled: ctx.auth.oidc.enabled,
          issuers: ctx.auth.oidc.issuers,
          groups: ctx.auth.oidc.allowedGroups,
        },
      },
      minio: { buckets_count: buckets.length, total_objects: null },
      nubes: { jobs: counts, slots: { capacity: ctx.limiter.capacity, running: ctx.limiter.running } },
    };
  });
}
