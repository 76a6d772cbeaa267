/**
 * @module executors/aws/cloudwatch-logs
 * Reading job logs back from CloudWatch Logs, which is where Lambda functions and Batch jobs write them:
 * a whole log stream (Batch: one stream per job) or the lines of one Lambda invocation (between its
 * `START RequestId:` and `END RequestId:` lines in the stream of the environment that ran it).
 */
import type {
  CloudWatchLogsClient,
  FilterLogEventsCommandOutput,
  GetLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import { z } from 'zod';
import { checkReply, isAwsError, toAwsError } from './aws-errors.js';

type LogsSdk = typeof import('@aws-sdk/client-cloudwatch-logs');

const eventSchema = z.object({
  logStreamName: z.string().optional(),
  timestamp: z.number(),
  message: z.string(),
  eventId: z.string().optional(),
});
const filterReplySchema = z.object({
  events: z.array(eventSchema).default([]),
  nextToken: z.string().optional(),
});
const getReplySchema = z.object({
  events: z.array(eventSchema.omit({ logStreamName: true, eventId: true })).default([]),
  nextForwardToken: z.string().optional(),
});

/** One Lambda invocation as found in the logs. */
export interface InvocationLog {
  /** Lines between START and END (END not yet written: the lines so far). */
  lines: string[];
  ended: boolean;
  /** The REPORT line, once written (`… Status: timeout`). */
  report: string | null;
}

export class CloudWatchLogReader {
  constructor(
    private readonly sdk: LogsSdk,
    private readonly client: CloudWatchLogsClient,
  ) {}

  /** Every message of a stream, oldest first; [] while the group or stream does not exist yet. */
  async streamMessages(group: string, stream: string, signal?: AbortSignal): Promise<string[]> {
    const messages: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 1000; page++) {
      let reply: GetLogEventsCommandOutput;
      try {
        reply = await this.client.send(
          new this.sdk.GetLogEventsCommand({
            logGroupName: group,
            logStreamName: stream,
            startFromHead: true,
            ...(token === undefined ? {} : { nextToken: token }),
          }),
          { abortSignal: signal },
        );
      } catch (error) {
        if (isAwsError(error, 'ResourceNotFoundException')) return messages;
        throw toAwsError('CloudWatch Logs', `read log stream ${stream}`, error);
      }
      const checked = checkReply('CloudWatch Logs', 'GetLogEvents', getReplySchema, reply);
      messages.push(...checked.events.map((event) => event.message));
      // The forward token repeats once the end of the stream is reached.
      if (checked.nextForwardToken === undefined || checked.nextForwardToken === token) break;
      if (checked.events.length === 0) break;
      token = checked.nextForwardToken;
    }
    return messages;
  }

  /** The lines of Lambda invocation `requestId` in `group`, looked for from `sinceMs` on; null before START. */
  async invocation(
    group: string,
    requestId: string,
    sinceMs: number,
    signal?: AbortSignal,
  ): Promise<InvocationLog | null> {
    const marks = await this.filter(
      group,
      { filterPattern: `"RequestId: ${requestId}"`, startTime: sinceMs },
      signal,
    );
    const start = marks.find((event) => event.message.startsWith(`START RequestId: ${requestId}`));
    if (start?.logStreamName === undefined) return null;
    const end = marks.find((event) => event.message.startsWith(`END RequestId: ${requestId}`));
    const report = marks.find((event) => event.message.startsWith(`REPORT RequestId: ${requestId}`));
    // One environment runs one invocation at a time: its lines are those between START and END.
    const stream = await this.filter(
      group,
      {
        logStreamNames: [start.logStreamName],
        startTime: start.timestamp,
        ...(end === undefined ? {} : { endTime: end.timestamp + 1 }),
      },
      signal,
    );
    const from = stream.findIndex((event) => event.message.startsWith(`START RequestId: ${requestId}`));
    const to = stream.findIndex((event) => event.message.startsWith(`END RequestId: ${requestId}`));
    const lines = stream
      .slice(from + 1, to === -1 ? undefined : to)
      .map((event) => event.message.replace(/\n$/, ''));
    return { lines, ended: end !== undefined, report: report?.message.trim() ?? null };
  }

  private async filter(
    group: string,
    query: { filterPattern?: string; startTime: number; endTime?: number; logStreamNames?: string[] },
    signal?: AbortSignal,
  ): Promise<z.infer<typeof eventSchema>[]> {
    const events: z.infer<typeof eventSchema>[] = [];
    let token: string | undefined;
    for (let page = 0; page < 1000; page++) {
      let reply: FilterLogEventsCommandOutput;
      try {
        reply = await this.client.send(
          new this.sdk.FilterLogEventsCommand({
            logGroupName: group,
            ...query,
            ...(token === undefined ? {} : { nextToken: token }),
          }),
          { abortSignal: signal },
        );
      } catch (error) {
        // Lambda creates the group with the function's first log line.
        if (isAwsError(error, 'ResourceNotFoundException')) return events;
        throw toAwsError('CloudWatch Logs', `search log group ${group}`, error);
      }
      const checked = checkReply('CloudWatch Logs', 'FilterLogEvents', filterReplySchema, reply);
      events.push(...checked.events);
      if (checked.nextToken === undefined) break;
      token = checked.nextToken;
    }
    return events;
  }
}
