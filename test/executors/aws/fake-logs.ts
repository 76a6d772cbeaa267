/**
 * @module test/executors/aws/fake-logs
 * CloudWatch Logs (JSON 1.1, `X-Amz-Target: Logs_20140328.<Operation>`): the log groups and streams the
 * fake Lambda and Batch write, read back with FilterLogEvents (quoted-phrase and term patterns, paging
 * with nextToken) and GetLogEvents (forward tokens that repeat at the end of the stream), as the
 * CloudWatch Logs API reference documents them. Pages are small on purpose, so paging is exercised.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { json11Error, type AwsReply, type AwsRequest, type FakeService, type Routed } from './fake-aws.js';

interface LogEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
  eventId: string;
}

const groupName = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[.\-_/#A-Za-z0-9]+$/);
const streamName = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[^:*]*$/);

const filterSchema = z
  .object({
    logGroupName: groupName,
    logStreamNames: z.array(streamName).min(1).max(100).optional(),
    logStreamNamePrefix: streamName.optional(),
    startTime: z.number().int().nonnegative().optional(),
    endTime: z.number().int().nonnegative().optional(),
    filterPattern: z.string().max(1024).optional(),
    nextToken: z.string().min(1).optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
  })
  .strict();

const getSchema = z
  .object({
    logGroupName: groupName.optional(),
    logGroupIdentifier: z.string().optional(),
    logStreamName: streamName,
    startTime: z.number().int().nonnegative().optional(),
    endTime: z.number().int().nonnegative().optional(),
    nextToken: z.string().min(1).optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
    startFromHead: z.boolean().optional(),
  })
  .strict();

export class FakeLogs implements FakeService {
  private readonly groups = new Map<string, Map<string, LogEvent[]>>();

  constructor(private readonly pageSize = 25) {}

  /** Appends a line (Lambda and Batch create the group and stream on first write). */
  write(group: string, stream: string, message: string, timestamp = Date.now()): void {
    let streams = this.groups.get(group);
    if (streams === undefined) this.groups.set(group, (streams = new Map<string, LogEvent[]>()));
    let events = streams.get(stream);
    if (events === undefined) streams.set(stream, (events = []));
    events.push({ timestamp, message, ingestionTime: Date.now(), eventId: randomUUID() });
  }

  messages(group: string, stream: string): string[] {
    return (this.groups.get(group)?.get(stream) ?? []).map((event) => event.message);
  }

  route(request: AwsRequest): Routed | null {
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.replace(/^Logs_20140328\./, '');
    if (operation === 'FilterLogEvents') {
      return { operation, schema: filterSchema, run: () => this.filter(filterSchema.parse(request.json)) };
    }
    if (operation === 'GetLogEvents') {
      return { operation, schema: getSchema, run: () => this.get(getSchema.parse(request.json)) };
    }
    return null;
  }

  validationError(message: string): AwsReply {
    return json11Error('InvalidParameterException', message);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private filter(input: z.infer<typeof filterSchema>): AwsReply {
    const streams = this.groups.get(input.logGroupName);
    if (streams === undefined)
      return json11Error('ResourceNotFoundException', 'The specified log group does not exist.');
    const all: (LogEvent & { logStreamName: string })[] = [];
    for (const [name, events] of streams) {
      if (input.logStreamNames !== undefined && !input.logStreamNames.includes(name)) continue;
      if (input.logStreamNamePrefix !== undefined && !name.startsWith(input.logStreamNamePrefix)) continue;
      for (const event of events) {
        if (input.startTime !== undefined && event.timestamp < input.startTime) continue;
        if (input.endTime !== undefined && event.timestamp > input.endTime) continue;
        if (!matchesPattern(input.filterPattern ?? '', event.message)) continue;
        all.push({ ...event, logStreamName: name });
      }
    }
    // Sorted by time; events of one stream keep their order.
    all.sort((a, b) => a.timestamp - b.timestamp);
    const offset = input.nextToken === undefined ? 0 : Number(input.nextToken.slice(2));
    const size = Math.min(input.limit ?? this.pageSize, this.pageSize);
    const page = all.slice(offset, offset + size);
    return {
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: {
        events: page,
        searchedLogStreams: [],
        ...(offset + size < all.length ? { nextToken: `n/${offset + size}` } : {}),
      },
    };
  }

  private get(input: z.infer<typeof getSchema>): AwsReply {
    const events = this.groups.get(input.logGroupName ?? '')?.get(input.logStreamName);
    if (events === undefined)
      return json11Error('ResourceNotFoundException', 'The specified log stream does not exist.');
    const offset = input.nextToken === undefined ? 0 : Number(input.nextToken.slice(2));
    const size = Math.min(input.limit ?? this.pageSize, this.pageSize);
    const selected = events.filter(
      (event) =>
        (input.startTime === undefined || event.timestamp >= input.startTime) &&
        (input.endTime === undefined || event.timestamp < input.endTime),
    );
    const page = selected.slice(offset, offset + size);
    const next = Math.min(offset + size, selected.length);
    return {
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: {
        events: page.map(({ timestamp, message, ingestionTime }) => ({ timestamp, message, ingestionTime })),
        nextForwardToken: `f/${next}`,
        nextBackwardToken: `b/${offset}`,
      },
    };
  }
}

/** CloudWatch's filter syntax, the parts used: `"a phrase"` matches the phrase, bare terms all must appear. */
function matchesPattern(pattern: string, message: string): boolean {
  if (pattern.trim() === '') return true;
  const phrases = [...pattern.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2] ?? '');
  return phrases.every((phrase) => message.includes(phrase));
}
