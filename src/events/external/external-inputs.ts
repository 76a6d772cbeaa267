/**
 * @module events/external/external-inputs
 * Inputs on external MinIO/S3 services, kept in step with the deployed services: on deploy, the webhook is
 * registered on the bucket (or a poller / an SQS reader starts); on removal, it is unregistered (or
 * stopped). Webhook calls are authenticated by a token per service and provider (an HMAC of the service's
 * token: the token that invokes the service never leaves Nubes), and their records become jobs in one
 * transaction before the call is answered.
 */
import { createHmac } from 'node:crypto';
import type { Logger } from '../../core/index.js';
import { PlatformError, safeEqual } from '../../core/index.js';
import type { ProviderSettings, StorageIoSpec } from '../../fdl/service-spec.js';
import type { Db } from '../../state/index.js';
import type { JobQueue } from '../job-queue.js';
import type { ServiceRecord, ServiceRegistry } from '../service-registry.js';
import { registerWebhook, unregisterWebhook, type WebhookTarget } from './bucket-notifications.js';
import { enqueueExternalEvents, readEventRecords, type EnqueuedJob } from './external-events.js';
import { startBucketPoller } from './bucket-poller.js';
import { startSqsReader } from './sqs-reader.js';

type S3Settings = Extract<ProviderSettings, { type: 'minio' | 's3' }>;

/** A running watcher of one input (a poller, an SQS reader). */
export interface InputWatcher {
  close(): Promise<void>;
}

/** Starts a watcher for an input with a `poll` or `sqs` trigger; provided by the platform's wiring. */
export type WatcherFactory = (
  service: ServiceRecord,
  input: StorageIoSpec,
  settings: S3Settings,
  enqueue: (events: ReturnType<typeof readEventRecords>) => EnqueuedJob[],
) => InputWatcher;

export interface ExternalInputsOptions {
  db: Db;
  queue: JobQueue;
  registry: ServiceRegistry;
  /** The REST API's base URL as external services reach it. */
  publicUrl: () => string;
  /** Called after jobs were enqueued (the dispatcher's wake). */
  onEnqueued: () => void;
  logger: Logger;
  /** Watchers of `poll` and `sqs` inputs, by trigger kind. @default the bucket poller and the SQS reader */
  watchers?: Partial<Record<'poll' | 'sqs', WatcherFactory>>;
}

/** The path of a service's webhook for one provider. */
export function webhookPath(service: string, provider: string): string {
  return `/system/storage-events/${encodeURIComponent(service)}/${encodeURIComponent(provider)}`;
}

interface ExternalInput {
  input: StorageIoSpec;
  settings: S3Settings;
}

function externalInputs(record: ServiceRecord): ExternalInput[] {
  const out: ExternalInput[] = [];
  for (const input of record.spec.input) {
    if (input.trigger === undefined) continue;
    const settings = Object.hasOwn(record.spec.storageProviders, input.provider)
      ? record.spec.storageProviders[input.provider]
      : undefined;
    if (settings === undefined || (settings.type !== 'minio' && settings.type !== 's3')) continue;
    out.push({ input, settings });
  }
  return out;
}

function watcherKey(service: string, input: StorageIoSpec): string {
  return `${service}\n${input.provider}\n${input.bucket}\n${input.folder}`;
}

export class ExternalInputs {
  private readonly watchers = new Map<string, InputWatcher>();
  private closed = false;

  private readonly factories: Record<'poll' | 'sqs', WatcherFactory>;

  constructor(private readonly options: ExternalInputsOptions) {
    this.factories = {
      poll:
        options.watchers?.poll ??
        ((record, input, settings, enqueue) =>
          startBucketPoller({
            db: options.db,
            service: record.name,
            input,
            settings,
            intervalMs: input.trigger?.kind === 'poll' ? input.trigger.intervalMs : 30_000,
            enqueue,
            logger: options.logger,
          })),
      sqs:
        options.watchers?.sqs ??
        ((_record, input, settings, enqueue) =>
          startSqsReader({
            queueUrl: input.trigger?.kind === 'sqs' ? input.trigger.queueUrl : '',
            settings,
            enqueue,
            logger: options.logger,
          })),
    };
  }

  /** Starts the watchers of every deployed service (server start). */
  start(): void {
    for (const record of this.options.registry.list()) this.startWatchers(record);
  }

  /** The token a service's webhook calls for `provider` must carry. */
  webhookToken(record: Pick<ServiceRecord, 'name' | 'token'>, provider: string): string {
    return createHmac('sha256', record.token)
      .update(`nubes-storage-webhook\n${provider}`)
      .digest('base64url');
  }

  /** The full webhook URL of a service for one provider, token included (a secret: show only to owners). */
  webhookUrl(record: Pick<ServiceRecord, 'name' | 'token'>, provider: string): string {
    const token = this.webhookToken(record, provider);
    return `${this.options.publicUrl()}${webhookPath(record.name, provider)}?token=${encodeURIComponent(token)}`;
  }

  /** Providers of a service that call its webhook, with the URL (for `GET .../storage-webhooks`). */
  webhooks(record: ServiceRecord): { provider: string; bucket: string; folder: string; url: string }[] {
    return externalInputs(record)
      .filter(({ input }) => input.trigger?.kind === 'webhook')
      .map(({ input }) => ({
        provider: input.provider,
        bucket: input.bucket,
        folder: input.folder,
        url: this.webhookUrl(record, input.provider),
      }));
  }

  /**
   * Registers the webhooks of a deployed (or updated) service and starts its watchers; removes what the
   * previous definition had and this one has not. Throws when a bucket cannot be configured (the deploy is
   * then rolled back by the caller); resolves with warnings.
   */
  async deploy(record: ServiceRecord, previous: ServiceRecord | undefined): Promise<string[]> {
    const warnings: string[] = [];
    const wanted = externalInputs(record);
    for (const { input, settings } of wanted) {
      if (input.trigger?.kind !== 'webhook') continue;
      warnings.push(...(await registerWebhook(settings, this.target(record, input))));
    }
    if (previous !== undefined) {
      const kept = new Set(
        wanted
          .filter((w) => w.input.trigger?.kind === 'webhook')
          .map((w) => watcherKey(record.name, w.input)),
      );
      for (const { input, settings } of externalInputs(previous)) {
        if (input.trigger?.kind !== 'webhook' || kept.has(watcherKey(record.name, input))) continue;
        await this.unregister(previous, input, settings);
      }
      await this.stopWatchers(previous.name);
    }
    this.startWatchers(record);
    return warnings;
  }

  /** Unregisters a removed service's webhooks (best effort: a failure is logged) and stops its watchers. */
  async undeploy(record: ServiceRecord): Promise<void> {
    await this.stopWatchers(record.name);
    this.options.db.prepare(`DELETE FROM input_watermarks WHERE service = ?`).run(record.name);
    for (const { input, settings } of externalInputs(record)) {
      if (input.trigger?.kind === 'webhook') await this.unregister(record, input, settings);
    }
  }

  private async unregister(record: ServiceRecord, input: StorageIoSpec, settings: S3Settings): Promise<void> {
    try {
      await unregisterWebhook(settings, {
        service: record.name,
        provider: input.provider,
        bucket: input.bucket,
        folder: input.folder,
      });
    } catch (error) {
      this.options.logger.warn(
        { service: record.name, provider: input.provider, bucket: input.bucket, err: error },
        'could not remove the webhook from the bucket',
      );
    }
  }

  private target(record: ServiceRecord, input: StorageIoSpec): WebhookTarget {
    return {
      service: record.name,
      provider: input.provider,
      bucket: input.bucket,
      folder: input.folder,
      events: input.events ?? ['s3:ObjectCreated:*'],
      url: this.webhookUrl(record, input.provider),
    };
  }

  /**
   * Handles one webhook call: checks the token, enqueues a job per matching record and service input, and
   * returns them once committed. An unknown service and a wrong token are both UNAUTHENTICATED, so that a
   * caller learns nothing about which services exist.
   */
  receive(serviceName: string, provider: string, token: string | null, body: unknown): EnqueuedJob[] {
    const record = this.options.registry.find(serviceName);
    const expected = record ? this.webhookToken(record, provider) : 'no-such-service';
    if (token === null || !safeEqual(token, expected) || record === undefined) {
      throw new PlatformError('UNAUTHENTICATED', 'the storage webhook token is missing or wrong');
    }
    const events = readEventRecords(body);
    const jobs = this.enqueue(provider, events, record.name);
    if (jobs.length > 0) this.options.onEnqueued();
    return jobs;
  }

  private enqueue(
    provider: string,
    events: ReturnType<typeof readEventRecords>,
    service: string,
  ): EnqueuedJob[] {
    return enqueueExternalEvents(
      { db: this.options.db, queue: this.options.queue, registry: this.options.registry },
      provider,
      events,
      (candidate) => candidate.name === service,
    );
  }

  private startWatchers(record: ServiceRecord): void {
    if (this.closed) return;
    for (const { input, settings } of externalInputs(record)) {
      const kind = input.trigger?.kind;
      if (kind !== 'poll' && kind !== 'sqs') continue;
      const factory = this.factories[kind];
      const key = watcherKey(record.name, input);
      if (this.watchers.has(key)) continue;
      const watcher = factory(record, input, settings, (events) => {
        const jobs = this.enqueue(input.provider, events, record.name);
        if (jobs.length > 0) this.options.onEnqueued();
        return jobs;
      });
      this.watchers.set(key, watcher);
    }
  }

  private async stopWatchers(service: string): Promise<void> {
    const stopping: Promise<void>[] = [];
    for (const [key, watcher] of this.watchers) {
      if (!key.startsWith(`${service}\n`)) continue;
      this.watchers.delete(key);
      stopping.push(watcher.close());
    }
    await Promise.allSettled(stopping);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.watchers.values()];
    this.watchers.clear();
    await Promise.allSettled(all.map((watcher) => watcher.close()));
  }
}
