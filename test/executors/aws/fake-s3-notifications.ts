/**
 * @module test/executors/aws/fake-s3-notifications
 * The notification subresource of S3 buckets (`GET|PUT /<bucket>?notification`, REST-XML), as the S3 API
 * reference documents it: PUT replaces the whole configuration; S3 refuses destinations it cannot invoke
 * (no resource-policy statement letting `s3.amazonaws.com` invoke the function for this bucket) and
 * overlapping Lambda entries (same event type, overlapping prefixes), both 400 InvalidArgument. An
 * uploaded object (`objectCreated`) invokes every matching function asynchronously with an `aws:s3` event.
 * Objects themselves live in the real S3 endpoint of the test; this endpoint only knows bucket names.
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { z } from 'zod';
import type { AwsReply, AwsRequest, FakeService, Routed } from './fake-aws.js';

export interface NotificationEntry {
  kind: 'lambda' | 'queue' | 'topic';
  id: string;
  arn: string;
  events: string[];
  filterRules: { name: string; value: string }[];
}

export interface BucketNotifications {
  entries: NotificationEntry[];
  eventBridge: boolean;
}

/** Who S3 asks whether a function may be invoked by a bucket, and how it invokes it. */
export interface LambdaTarget {
  allowsBucket(functionArn: string, bucket: string): boolean;
  invokeFromS3(functionArn: string, event: string): void;
}

const ELEMENTS = {
  lambda: { element: 'CloudFunctionConfiguration', arn: 'CloudFunction' },
  queue: { element: 'QueueConfiguration', arn: 'Queue' },
  topic: { element: 'TopicConfiguration', arn: 'Topic' },
} as const;

const filterRuleSchema = z
  .object({ Name: z.enum(['prefix', 'suffix', 'Prefix', 'Suffix']), Value: z.string() })
  .strict();
const entrySchema = (arnField: string) =>
  z
    .object({
      Id: z.string().max(255).optional(),
      [arnField]: z.string().startsWith('arn:'),
      Event: z.array(z.string().regex(/^s3:[A-Za-z]+(:[A-Za-z*]+)?$/)).min(1),
      Filter: z
        .object({ S3Key: z.object({ FilterRule: z.array(filterRuleSchema).max(2) }).strict() })
        .strict()
        .optional(),
    })
    .strict();
/** PutBucketNotificationConfiguration's body (NotificationConfiguration in the S3 API reference). */
const putBodySchema = z
  .object({
    NotificationConfiguration: z
      .object({
        '@_xmlns': z.string().optional(),
        CloudFunctionConfiguration: z.array(entrySchema('CloudFunction')).optional(),
        QueueConfiguration: z.array(entrySchema('Queue')).optional(),
        TopicConfiguration: z.array(entrySchema('Topic')).optional(),
        EventBridgeConfiguration: z.union([z.literal(''), z.object({}).strict()]).optional(),
      })
      .strict(),
  })
  .strict();

export class FakeS3Notifications implements FakeService {
  private readonly buckets = new Map<string, BucketNotifications>();
  private readonly parser = new XMLParser({
    ignoreAttributes: false,
    ignoreDeclaration: true,
    parseTagValue: false,
    isArray: (name) =>
      [
        'CloudFunctionConfiguration',
        'QueueConfiguration',
        'TopicConfiguration',
        'Event',
        'FilterRule',
      ].includes(name),
  });
  private readonly builder = new XMLBuilder({ ignoreAttributes: false, suppressEmptyNode: false });

  constructor(private readonly lambda: LambdaTarget) {}

  /** Makes a bucket exist, optionally with notifications of others already on it. */
  createBucket(name: string, existing: NotificationEntry[] = []): void {
    this.buckets.set(name, { entries: existing, eventBridge: false });
  }

  notifications(bucket: string): BucketNotifications | undefined {
    return this.buckets.get(bucket);
  }

  /** S3's side of an upload: every Lambda entry that matches invokes its function (asynchronously). */
  objectCreated(bucket: string, key: string, size: number): number {
    const config = this.buckets.get(bucket);
    let invoked = 0;
    for (const entry of config?.entries ?? []) {
      if (entry.kind !== 'lambda' || !matchesEvent(entry.events, 's3:ObjectCreated:Put')) continue;
      if (!matchesFilter(entry.filterRules, key)) continue;
      const event = {
        Records: [
          {
            eventVersion: '2.1',
            eventSource: 'aws:s3',
            awsRegion: 'us-east-1',
            eventTime: new Date().toISOString(),
            eventName: 'ObjectCreated:Put',
            s3: {
              s3SchemaVersion: '1.0',
              configurationId: entry.id,
              bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
              object: { key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'), size },
            },
          },
        ],
      };
      this.lambda.invokeFromS3(entry.arn, JSON.stringify(event));
      invoked++;
    }
    return invoked;
  }

  route(request: AwsRequest): Routed | null {
    if (!request.query.has('notification')) return null;
    const bucket = request.path.replace(/^\/+|\/+$/g, '');
    if (request.method === 'GET') {
      return { operation: 'GetBucketNotificationConfiguration', schema: null, run: () => this.get(bucket) };
    }
    if (request.method === 'PUT') {
      let parsed: unknown = null;
      try {
        parsed = this.parser.parse(request.raw.toString('utf8'));
      } catch {
        parsed = null;
      }
      return {
        operation: 'PutBucketNotificationConfiguration',
        schema: putBodySchema,
        input: parsed,
        run: () => this.put(bucket, putBodySchema.parse(parsed)),
      };
    }
    return null;
  }

  validationError(message: string): AwsReply {
    return s3Error(400, 'MalformedXML', message);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private get(bucket: string): AwsReply {
    const config = this.buckets.get(bucket);
    if (config === undefined) return s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
    const body: Record<string, unknown> = { '@_xmlns': 'http://s3.amazonaws.com/doc/2006-03-01/' };
    for (const kind of ['topic', 'queue', 'lambda'] as const) {
      const entries = config.entries.filter((entry) => entry.kind === kind);
      if (entries.length === 0) continue;
      body[ELEMENTS[kind].element] = entries.map((entry) => ({
        Id: entry.id,
        [ELEMENTS[kind].arn]: entry.arn,
        Event: entry.events,
        ...(entry.filterRules.length === 0
          ? {}
          : {
              Filter: {
                S3Key: {
                  FilterRule: entry.filterRules.map((rule) => ({ Name: rule.name, Value: rule.value })),
                },
              },
            }),
      }));
    }
    if (config.eventBridge) body.EventBridgeConfiguration = '';
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n${this.builder.build({ NotificationConfiguration: body })}`;
    return { status: 200, headers: { 'content-type': 'application/xml' }, body: xml };
  }

  private put(bucket: string, body: z.infer<typeof putBodySchema>): AwsReply {
    const config = this.buckets.get(bucket);
    if (config === undefined) return s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
    const document = body.NotificationConfiguration;
    const entries: NotificationEntry[] = [];
    for (const kind of ['topic', 'queue', 'lambda'] as const) {
      const list = (document[ELEMENTS[kind].element] ?? []) as Record<string, unknown>[];
      for (const item of list) {
        const filter = item.Filter as
          { S3Key: { FilterRule: { Name: string; Value: string }[] } } | undefined;
        entries.push({
          kind,
          id: (item.Id as string | undefined) ?? `generated-${entries.length}`,
          arn: item[ELEMENTS[kind].arn] as string,
          events: item.Event as string[],
          filterRules: (filter?.S3Key.FilterRule ?? []).map((rule) => ({
            name: rule.Name.toLowerCase(),
            value: rule.Value,
          })),
        });
      }
    }
    const unreachable = entries.filter(
      (entry) => entry.kind === 'lambda' && !this.lambda.allowsBucket(entry.arn, bucket),
    );
    if (unreachable.length > 0) {
      return s3Error(400, 'InvalidArgument', 'Unable to validate the following destination configurations');
    }
    const lambdas = entries.filter((entry) => entry.kind === 'lambda');
    for (let i = 0; i < lambdas.length; i++) {
      for (let j = i + 1; j < lambdas.length; j++) {
        if (overlap(lambdas[i] as NotificationEntry, lambdas[j] as NotificationEntry)) {
          return s3Error(
            400,
            'InvalidArgument',
            'Configurations overlap. Configurations on the same bucket cannot share a common event type.',
          );
        }
      }
    }
    this.buckets.set(bucket, { entries, eventBridge: document.EventBridgeConfiguration !== undefined });
    return { status: 200 };
  }
}

function matchesEvent(patterns: string[], event: string): boolean {
  return patterns.some(
    (pattern) => pattern === event || (pattern.endsWith(':*') && event.startsWith(pattern.slice(0, -1))),
  );
}

function matchesFilter(rules: { name: string; value: string }[], key: string): boolean {
  return rules.every((rule) =>
    rule.name === 'prefix' ? key.startsWith(rule.value) : key.endsWith(rule.value),
  );
}

function overlap(a: NotificationEntry, b: NotificationEntry): boolean {
  const sharesEvent = a.events.some(
    (event) => matchesEvent(b.events, event) || matchesEvent([event], b.events[0] ?? ''),
  );
  if (!sharesEvent) return false;
  const prefixOf = (entry: NotificationEntry) =>
    entry.filterRules.find((rule) => rule.name === 'prefix')?.value ?? '';
  const suffixOf = (entry: NotificationEntry) =>
    entry.filterRules.find((rule) => rule.name === 'suffix')?.value ?? '';
  const [pa, pb] = [prefixOf(a), prefixOf(b)];
  const [sa, sb] = [suffixOf(a), suffixOf(b)];
  return (pa.startsWith(pb) || pb.startsWith(pa)) && (sa.endsWith(sb) || sb.endsWith(sa));
}

function s3Error(status: number, code: string, message: string): AwsReply {
  return {
    status,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fake</RequestId></Error>`,
  };
}
