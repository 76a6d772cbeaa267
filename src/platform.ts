/**
 * @module platform
 * Wiring only: builds every domain from the loaded config and closes them in reverse order.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApiServer, PlatformMetrics } from './api/index.js';
import type { Logger, NubesConfig } from './core/index.js';
import { PlatformError, ShutdownGate, systemClock, newId } from './core/index.js';
import { openDatabase } from './state/index.js';
import {
  ConcurrencyLimiter,
  Dispatcher,
  JobQueue,
  JobStats,
  ExternalInputs,
  ServiceRegistry,
  createTriggerHook,
} from './events/index.js';
import { createFsObjectStore } from './storage/index.js';
import { createS3Server, ScopedKeys } from './s3api/index.js';
import { createExecutor, createLocalExecutor, type ExecutorContext } from './executors/index.js';
import type { Executor } from './executors/executor.js';
import { JobRunner } from './executors/job-runner.js';
import {
  Authenticator,
  OidcVerifier,
  QuotaGuard,
  UserStore,
  loadSecretBox,
  withStorageQuotas,
} from './auth/index.js';
import { MapReduceEngine } from './mapreduce/index.js';
import { startSchedulerService } from './scheduler/scheduler-service.js';

export interface Platform {
  /** Base URL of the REST API, e.g. http://127.0.0.1:8080 */
  apiUrl: string;
  /** Base URL of the S3 endpoint, e.g. http://127.0.0.1:9000 */
  s3Url: string;
  config: NubesConfig;
  /**
   * Shuts down gracefully: new requests are refused at once (503 UNAVAILABLE), running jobs and requests
   * under way get `config.shutdownGraceMs` to finish, jobs still running then are stopped and queued again
   * (without charging the attempt) for the next start; then everything is closed.
   */
  close(): Promise<void>;
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
}

function urlOf(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

export async function startPlatform(config: NubesConfig, logger: Logger): Promise<Platform> {
  const clock = systemClock;
  const gate = new ShutdownGate();
  const closers: (() => Promise<void> | void)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (error) {
        logger.error({ err: error }, 'error while shutting down');
      }
    }
  };
  try {
    const db = openDatabase(join(config.dataDir, 'nubes.db'));
    closers.push(() => {
      db.close();
    });

    const secretBox = loadSecretBox(config.dataDir);
    const registry = new ServiceRegistry(db, clock, secretBox);
    const users = new UserStore(db, clock, secretBox);
    const oidc = new OidcVerifier(config.oidc);
    const quotas = new QuotaGuard(
      db,
      users,
      config.defaultQuotas,
      (name) => registry.find(name)?.spec ?? null,
    );
    const authenticator = new Authenticator({
      adminUser: config.adminUser,
      adminPassword: config.adminPassword,
      users,
      oidc,
      serviceOfToken: (token) => registry.serviceOfToken(token),
    });
    const scheduling = startSchedulerService({ db, clock, logger, registry });
    closers.push(() => scheduling.close());
    const queue = new JobQueue(db, clock, `${process.pid}-${newId()}`);
    closers.push(() => queue.flushCommits());
    let dispatcher: Dispatcher | null = null;
    let mapreduce: MapReduceEngine | null = null;
    const triggerServices = createTriggerHook({
      registry,
      queue,
      region: config.region,
      onEnqueued: () => dispatcher?.wake(),
    });
    const store = await createFsObjectStore({
      db,
      rootDir: join(config.dataDir, 'objects'),
      // wake() only schedules a pass (setImmediate), which runs after the upload's transaction commits.
      onEvent: scheduling.watchJobFiles((event) => {
        triggerServices(event);
        mapreduce?.onStorageEvent(event);
      }),
      clock,
    });
    closers.push(() => store.close());
    scheduling.attachStore(store);

    const local = await createLocalExecutor({
      dataDir: config.dataDir,
      sandbox: config.sandbox,
      maxConcurrentJobs: config.maxConcurrentJobs,
      store,
      logger: logger.child({ component: 'executor' }),
    });
    closers.push(() => local.close());
    const executors = new Map<string, Executor>([[local.name, local]]);
    // Jobs on other machines (Slurm nodes) reach the store through the S3 endpoint with keys scoped to one
    // job; the endpoint's address is known once it listens, below, before any job runs.
    const scopedKeys = new ScopedKeys(clock, { db, box: secretBox });
    let s3Url = '';
    const executorContext: ExecutorContext = {
      dataDir: config.dataDir,
      store,
      logger: logger.child({ component: 'executor' }),
      storage: { endpoint: () => s3Url, region: config.region, keys: scopedKeys },
    };
    for (const [name, raw] of Object.entries(config.executors)) {
      const created = await createExecutor(name, raw, executorContext);
      closers.push(() => created.close());
      executors.set(name, created);
    }
    if (!executors.has('container')) {
      try {
        const container = await createExecutor(
          'container',
          { maxConcurrentJobs: config.maxConcurrentJobs },
          executorContext,
        );
        closers.push(() => container.close());
        executors.set('container', container);
      } catch (error) {
        // Without an engine, container services still run: their scripts on the host, and deploying one
        // warns that its image is not run.
        logger.warn(`${(error as Error).message}; services with executor "container" run on the host`);
        executors.set('container', local);
      }
    }
    const executor = (name: string): Executor => {
      const found = executors.get(name);
      if (!found)
        throw new PlatformError('EXECUTOR_UNAVAILABLE', `no executor named "${name}" on this server`);
      return found;
    };

    const mapreduceEngine = await MapReduceEngine.create({
      store,
      executor,
      dataDir: config.dataDir,
      logger: logger.child({ component: 'mapreduce' }),
    });
    mapreduce = mapreduceEngine;
    closers.push(() => mapreduceEngine.close());

    const runner = new JobRunner({
      dataDir: config.dataDir,
      executor,
      logger,
      clock,
      executionRoles: config.executionRoles,
    });
    await runner.cleanWorkRoot();
    const limiter = new ConcurrencyLimiter(config.maxConcurrentJobs, config.maxConcurrentJobs * 64);
    dispatcher = new Dispatcher({
      queue,
      registry,
      limiter,
      runJob: (job, service, signal) => runner.runQueued(job, service, signal),
      logger: logger.child({ component: 'dispatcher' }),
      clock,
    });
    const activeDispatcher = dispatcher;
    closers.push(() => activeDispatcher.close());

    const stats = new JobStats(db, clock);
    stats.start();
    closers.push(() => stats.close());
    const metrics = new PlatformMetrics(stats);
    const unsubscribeMetrics = queue.subscribe(metrics.onJobChange);
    closers.push(unsubscribeMetrics);

    const s3 = createS3Server({
      observe: metrics.observeS3Request,
      // Users' writes count against their storage quotas; the platform's own writes (outputs) do not.
      store: withStorageQuotas(store, quotas),
      region: config.region,
      logger: logger.child({ component: 's3' }),
      // Parts of multipart uploads wait on the store's own disk, not in a possibly small temp space.
      multipartDir: join(config.dataDir, 'multipart'),
      gate,
      // The store's own key is the admin's; users' keys name them as the principal (bucket owners).
      scopeOf: (accessKeyId) => scopedKeys.resolve(accessKeyId)?.scope ?? null,
      resolveSecret: (accessKeyId) => {
        const scoped = scopedKeys.resolve(accessKeyId);
        if (scoped !== null) return { secretKey: scoped.secretKey, principal: `job:${accessKeyId}` };
        if (accessKeyId === config.s3AccessKey)
          return { secretKey: config.s3SecretKey, principal: accessKeyId, admin: true };
        const found = users.s3Secret(accessKeyId);
        if (!found) return null;
        return { secretKey: found.secretKey, principal: found.user.name, admin: found.user.admin };
      },
    });
    const s3Address = await s3.listen(config.s3Port, config.host);
    closers.push(() => s3.close());
    s3Url = urlOf(config.host, s3Address.port);

    let apiUrl = '';
    const externalInputs = new ExternalInputs({
      db,
      queue,
      registry,
      publicUrl: () => config.publicUrl ?? apiUrl,
      onEnqueued: () => dispatcher?.wake(),
      logger: logger.child({ component: 'external-inputs' }),
    });
    closers.push(() => externalInputs.close());

    const app = createApiServer({
      config,
      logger,
      clock,
      version: readVersion(),
      s3Url: () => s3Url,
      registry,
      queue,
      dispatcher,
      limiter,
      runner,
      store,
      executor,
      stats,
      metrics,
      executorNames: () => [...executors.keys()],
      auth: { authenticator, users, quotas, oidc },
      mapreduce: mapreduceEngine,
      scheduler: scheduling.scheduler,
      gate,
      externalInputs,
    });
    await app.listen({ port: config.port, host: config.host });
    closers.push(() => app.close());
    const address = app.server.address();
    const apiPort = typeof address === 'object' && address ? address.port : config.port;
    apiUrl = urlOf(config.host, apiPort);

    const drain = async () => {
      gate.close();
      logger.info(
        {
          graceMs: config.shutdownGraceMs,
          runningJobs: activeDispatcher.runningCount,
          requests: gate.pending,
        },
        'shutting down: refusing new requests, waiting for running jobs',
      );
      let timer: NodeJS.Timeout | undefined;
      await Promise.all([
        activeDispatcher.close(config.shutdownGraceMs),
        Promise.race([
          gate.idle(),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, config.shutdownGraceMs);
          }),
        ]),
      ]);
      clearTimeout(timer);
      if (gate.pending > 0) {
        // Requests still under way after the grace period (long sync calls) are cut: their clients retry.
        logger.warn({ requests: gate.pending }, 'closing connections still busy after the grace period');
        app.server.closeAllConnections();
      }
    };
    dispatcher.start();
    externalInputs.start();
    return {
      apiUrl: urlOf(config.host, apiPort),
      s3Url,
      config,
      close: async () => {
        try {
          await drain();
        } catch (error) {
          logger.error({ err: error }, 'error while draining');
        }
        await closeAll();
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
