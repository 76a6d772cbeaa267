/**
 * @module test/executors/kubernetes/fake-knative
 * Plays the pods of Knative Services for the in-test API server: one HTTP server per Knative Service (its
 * `status.address.url`), which does what OpenFaaS's classic watchdog does in an OSCAR/Nubes Knative pod:
 * each request's body goes to a new `fprocess` (the container's environment variable) on stdin, its
 * headers become `Http_<Header>` variables, its stdout is the answer (500 when it exits non-zero).
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KnativeContainer {
  env?: { name: string; value?: string }[];
}

/** Builds a container's environment (ConfigMaps and Secrets resolved), or says why it cannot. */
export type EnvResolver = (namespace: string, container: KnativeContainer) => Record<string, string> | string;

export class FakeKnative {
  private readonly revisions = new Map<
    string,
    { server: Server; url: string; container: KnativeContainer }
  >();
  /** Requests served, by Knative Service name. */
  readonly served = new Map<string, number>();

  constructor(private readonly resolveEnv: EnvResolver) {}

  /** Starts (or updates) the pods of a Knative Service; resolves with its address. */
  async serve(namespace: string, name: string, container: KnativeContainer): Promise<string> {
    const key = `${namespace}/${name}`;
    const existing = this.revisions.get(key);
    if (existing !== undefined) {
      existing.container = container;
      return existing.url;
    }
    const entry = { server: createServer(), url: '', container };
    entry.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.served.set(name, (this.served.get(name) ?? 0) + 1);
      void this.handle(namespace, entry.container, req, res);
    });
    await new Promise<void>((resolve) => entry.server.listen(0, '127.0.0.1', resolve));
    entry.url = `http://127.0.0.1:${(entry.server.address() as AddressInfo).port}`;
    this.revisions.set(key, entry);
    return entry.url;
  }

  async stop(namespace: string, name: string): Promise<void> {
    const entry = this.revisions.get(`${namespace}/${name}`);
    if (entry === undefined) return;
    this.revisions.delete(`${namespace}/${name}`);
    await new Promise<void>((resolve) => {
      entry.server.close(() => resolve());
      entry.server.closeAllConnections();
    });
  }

  async close(): Promise<void> {
    for (const key of [...this.revisions.keys()]) {
      const [namespace = '', name = ''] = key.split('/');
      await this.stop(namespace, name);
    }
  }

  private async handle(
    namespace: string,
    container: KnativeContainer,
    req: IncomingMessage,
    res: ServerResponse,
  ) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const env = this.resolveEnv(namespace, container);
    if (typeof env === 'string') {
      res.writeHead(500).end(env);
      return;
    }
    const headers: Record<string, string> = {};
    for (const [header, value] of Object.entries(req.headers)) {
      const name = `Http_${header.replace(/(^|-)([a-z])/g, (_m, dash: string, letter: string) => `${dash === '' ? '' : '_'}${letter.toUpperCase()}`)}`;
      headers[name] = Array.isArray(value) ? value.join(',') : (value ?? '');
    }
    const child = spawn('/bin/sh', ['-c', env.fprocess ?? 'false'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ...env,
        ...headers,
        Http_Method: req.method ?? 'POST',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdin.end(Buffer.concat(chunks));
    child.on('close', (code) => {
      if (code === 0)
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.concat(out));
      else res.writeHead(500).end(Buffer.concat(err));
    });
  }
}
