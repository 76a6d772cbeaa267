/**
 * @module bench/support/report-load
 * The load generator of the scheduler benchmark, run as its own process so it does not share the server's
 * event loop: `connections` keep-alive HTTP/1.1 connections on loopback, each driving its own slice of the
 * partitions in turn (a partition's reports stay in order, as a real partition's do) and sending the next
 * request as soon as the previous answer arrived. Plain sockets with a minimal response parser keep the
 * generator's own cost per request small. Bounded by `seconds`; prints one JSON line with the counts.
 *
 * Input (standard input, JSON): { host, port, jobId, partitions: [{ index, token }], connections, seconds, mode }
 * where mode is `json` (POST …/partitions/{i}/report), `legacy` (GET /lb/{job}.{token}/report) or `health`
 * (GET /health: the same server's HTTP stack answering a constant, the ceiling any route can reach here).
 */
import { connect, type Socket } from 'node:net';

interface LoadInput {
  host: string;
  port: number;
  jobId: string;
  partitions: { index: number; token: string }[];
  connections: number;
  seconds: number;
  mode: 'json' | 'legacy' | 'health';
}

export interface LoadResult {
  requests: number;
  errors: number;
  firstError: string | null;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

function requestBytes(
  input: LoadInput,
  part: { index: number; token: string },
  done: number,
  elapsed: number,
) {
  if (input.mode === 'health')
    return Buffer.from(`GET /health HTTP/1.1\r\nhost: ${input.host}:${input.port}\r\n\r\n`);
  if (input.mode === 'legacy') {
    return Buffer.from(
      `GET /lb/${input.jobId}.${part.token}/report?worker=${part.index}&nIter=${done}&dt=${Math.floor(elapsed)} HTTP/1.1\r\n` +
        `host: ${input.host}:${input.port}\r\n\r\n`,
    );
  }
  const body = `{"done":${done},"elapsedSec":${elapsed.toFixed(3)}}`;
  return Buffer.from(
    `POST /system/scheduler/jobs/${input.jobId}/partitions/${part.index}/report HTTP/1.1\r\n` +
      `host: ${input.host}:${input.port}\r\nauthorization: Bearer ${part.token}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

async function run(input: LoadInput): Promise<LoadResult> {
  const latencies: number[] = [];
  let requests = 0;
  let errors = 0;
  let firstError: string | null = null;
  const started = performance.now();
  const deadline = started + input.seconds * 1000;
  const done = new Map<number, number>();

  const drive = (slice: { index: number; token: string }[]) =>
    new Promise<void>((resolve, reject) => {
      const socket: Socket = connect({ host: input.host, port: input.port, noDelay: true });
      let buffer: Buffer = Buffer.alloc(0);
      let turn = 0;
      let sentAt = 0;
      const sendNext = () => {
        if (performance.now() >= deadline || slice.length === 0) {
          socket.end();
          return;
        }
        const part = slice[turn++ % slice.length];
        if (!part) return;
        const next = (done.get(part.index) ?? 0) + 1000;
        done.set(part.index, next);
        sentAt = performance.now();
        socket.write(requestBytes(input, part, next, (sentAt - started) / 1000));
      };
      socket.on('connect', sendNext);
      socket.on('data', (chunk: Buffer) => {
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        for (;;) {
          const end = buffer.indexOf(HEADER_END);
          if (end < 0) return;
          const head = buffer.subarray(0, end).toString('latin1');
          const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
          if (buffer.length < end + 4 + length) return;
          const status = Number(head.slice(9, 12));
          if (status === 200) {
            requests++;
            latencies.push(performance.now() - sentAt);
          } else {
            errors++;
            firstError ??= `${status} ${buffer.subarray(end + 4, end + 4 + length).toString()}`;
          }
          buffer = buffer.subarray(end + 4 + length);
          sendNext();
        }
      });
      socket.on('error', reject);
      socket.on('close', () => resolve());
    });

  const slices = Array.from({ length: input.connections }, (_, c) =>
    input.partitions.filter((_, i) => i % input.connections === c),
  );
  await Promise.all(slices.map(drive));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { requests, errors, firstError, seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const result = await run(JSON.parse(Buffer.concat(chunks).toString()) as LoadInput);
process.stdout.write(`${JSON.stringify(result)}\n`);
