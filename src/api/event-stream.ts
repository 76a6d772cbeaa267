/**
 * @module api/event-stream
 * Server-sent events on a fastify reply: the reply is hijacked and written by hand, with a heartbeat that
 * keeps proxies from closing a quiet stream. Open streams are ended when the server closes (they are never
 * idle, so the server would otherwise wait for them).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const HEARTBEAT_MS = 15_000;

export interface EventStream {
  /** Sends one event whose data is JSON. No-op once closed. */
  send(event: string, data: unknown): void;
  readonly closed: boolean;
  /** Ends the stream (the client may reconnect). */
  close(): void;
  /** Called once when the stream ends, whoever ended it. */
  onClose(listener: () => void): void;
}

/** Tracks open streams of one server and ends them before it closes. */
export class EventStreams {
  private readonly open = new Set<EventStream>();

  constructor(app: FastifyInstance) {
    app.addHook('preClose', async () => {
      for (const stream of [...this.open]) stream.close();
    });
  }

  get size(): number {
    return this.open.size;
  }

  /** Starts an event stream as the answer to `request`. */
  start(request: FastifyRequest, reply: FastifyReply): EventStream {
    void reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-request-id': request.id,
      // Tells nginx-like proxies not to buffer the stream.
      'x-accel-buffering': 'no',
    });
    res.write(': nubes event stream\n\n');
    const listeners: (() => void)[] = [];
    let closed = false;
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const finish = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      this.open.delete(stream);
      for (const listener of listeners) listener();
    };
    const stream: EventStream = {
      send(event, data) {
        if (closed) return;
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      get closed() {
        return closed;
      },
      close() {
        finish();
        res.end();
      },
      onClose(listener) {
        listeners.push(listener);
      },
    };
    res.on('close', finish);
    this.open.add(stream);
    return stream;
  }
}
