/**
 * @module test/executors/kubernetes/fake-kube-api
 * An in-test Kubernetes API server (node:http on port 0): the few endpoints the Kubernetes executor uses
 * (ConfigMaps, Secrets, Jobs and their status, Pods and their logs, Knative Services), answering as the
 * real API documents (Status objects with reasons, 201/409/404/422), recording every request, validating
 * every object sent against the v1.30.0 schemas (an invalid one gets the API's 422), with failures that a
 * test can inject (429 with Retry-After, 5xx). A Job's pod is played by a kubelet that runs the container's
 * command as a host process (see process-kubelet.ts), so the real supervisor and script run.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { FakeKnative } from './fake-knative.js';
import { kubernetesSchemaErrors } from './kube-schema.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface InjectedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** What the kubelet is given to start a pod's container. */
export interface PodLaunch {
  jobName: string;
  container: Container;
  /** The container's environment with ConfigMap and Secret references resolved. */
  env: Record<string, string>;
  appendLog(text: string): void;
  exit(exitCode: number, reason?: string): void;
}

/** A started container: stopped by deleting the Job or by its deadline. */
export interface RunningContainer {
  kill(): void;
}

export type Kubelet = (launch: PodLaunch) => RunningContainer;

type Obj = Record<string, unknown> & { metadata: Record<string, unknown> & { name: string } };
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: Record<string, { name: string; key: string }> }[];
  envFrom?: { secretRef?: { name: string }; configMapRef?: { name: string } }[];
}
interface FakeJob {
  object: Obj;
  status: Record<string, unknown>;
  pod: { name: string; created: string; state: Record<string, unknown>; log: string };
  running: RunningContainer | null;
  deadline: NodeJS.Timeout | null;
}

const COLLECTIONS = {
  configmaps: '/api/v1',
  secrets: '/api/v1',
  jobs: '/apis/batch/v1',
  services: '/apis/serving.knative.dev/v1',
} as const;
type Collection = keyof typeof COLLECTIONS;

export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  /** Schema errors of objects that were sent (each also answered 422). */
  readonly invalid: { path: string; errors: string[] }[] = [];
  readonly token = `token-${randomUUID()}`;
  private readonly objects = new Map<string, Obj>();
  private readonly jobs = new Map<string, FakeJob>();
  private readonly injected: { method: string; path: RegExp; responses: InjectedResponse[] }[] = [];
  /** The pods of Knative Services (their watchdog), each at the address put in the Service's status. */
  readonly knative = new FakeKnative((namespace, container) =>
    this.resolveEnv(namespace, container as Container),
  );
  private server: Server | null = null;
  private version = 1;
  url = '';

  constructor(private readonly kubelet: Kubelet) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch((error: unknown) => {
        send(res, 500, status(500, 'InternalError', String(error)));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A kubeconfig that points at this server with its bearer token. */
  kubeconfig(): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      // client-node refuses plain http unless TLS checks are off; this endpoint speaks http.
      `clusters: [{ name: fake, cluster: { server: "${this.url}", insecure-skip-tls-verify: true } }]`,
      `users: [{ name: tester, user: { token: "${this.token}" } }]`,
      'contexts: [{ name: fake, context: { cluster: fake, user: tester } }]',
      'current-context: fake',
      '',
    ].join('\n');
  }

  /** The next requests matching `method` and `path` get these answers, in order, before normal handling. */
  inject(method: string, path: RegExp, ...responses: InjectedResponse[]): void {
    this.injected.push({ method, path, responses });
  }

  /** Stored object of a collection (`jobs`, `configmaps`, `secrets`, `services`), or undefined. */
  object(collection: Collection, namespace: string, name: string): Obj | undefined {
    if (collection === 'jobs') return this.jobs.get(`${namespace}/${name}`)?.object;
    return this.objects.get(`${collection}/${namespace}/${name}`);
  }

  /** Names of Jobs whose container still runs, for the service label value given. */
  runningJobs(serviceLabel: string): string[] {
    return [...this.jobs.values()]
      .filter((job) => job.running !== null && labelsOf(job.object)['nubes.grycap/service'] === serviceLabel)
      .map((job) => job.object.metadata.name);
  }

  requestsTo(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path));
  }

  async close(): Promise<void> {
    for (const job of this.jobs.values()) this.stop(job);
    await this.knative.close();
    await new Promise<void>((resolve) => {
      if (this.server === null) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw = await readBody(req);
    let body: unknown = null;
    if (raw.length > 0) body = JSON.parse(raw.toString('utf8')) as unknown;
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, query: url.searchParams, headers: req.headers, body });

    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    }
    const injection = this.injected.find(
      (i) => i.method === method && i.path.test(url.pathname) && i.responses.length > 0,
    );
    const forced = injection?.responses.shift();
    if (forced !== undefined) {
      return send(
        res,
        forced.status,
        forced.body ?? status(forced.status, 'Injected', 'injected'),
        forced.headers,
      );
    }

    const pods = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+)\/log)?$/.exec(url.pathname);
    if (pods !== null && method === 'GET') return this.handlePods(res, pods[1] ?? '', pods[2], url);
    const match =
      /^(\/api\/v1|\/apis\/batch\/v1|\/apis\/serving\.knative\.dev\/v1)\/namespaces\/([^/]+)\/(configmaps|secrets|jobs|services)(?:\/([^/]+))?(\/status)?$/.exec(
        url.pathname,
      );
    if (match === null || COLLECTIONS[match[3] as Collection] !== match[1]) {
      return send(res, 404, status(404, 'NotFound', `the server could not find ${url.pathname}`));
    }
    const collection = match[3] as Collection;
    const namespace = match[2] ?? '';
    const name = match[4];
    if (collection === 'jobs') return this.handleJobs(res, method, namespace, name, body, url);
    return this.handleObjects(res, method, collection, namespace, name, body);
  }

  private validate(res: ServerResponse, path: string, body: unknown): boolean {
    const errors = kubernetesSchemaErrors(body);
    if (errors.length === 0) return true;
    this.invalid.push({ path, errors });
    send(res, 422, status(422, 'Invalid', errors.join('; ')));
    return false;
  }

  private async handleObjects(
    res: ServerResponse,
    method: string,
    collection: Collection,
    namespace: string,
    name: string | undefined,
    body: unknown,
  ): Promise<void> {
    const key = (n: string): string => `${collection}/${namespace}/${n}`;
    if (method === 'POST' && name === undefined) {
      if (!this.validate(res, `${collection}`, body)) return;
      const object = body as Obj;
      if (this.objects.has(key(object.metadata.name))) {
        return send(
          res,
          409,
          status(409, 'AlreadyExists', `${collection} "${object.metadata.name}" already exists`),
        );
      }
      this.objects.set(
        key(object.metadata.name),
        await this.withStatus(collection, namespace, this.stamp(object)),
      );
      return send(res, 201, this.objects.get(key(object.metadata.name)));
    }
    if (name === undefined) return send(res, 405, status(405, 'MethodNotAllowed', method));
    const current = this.objects.get(key(name));
    if (current === undefined) {
      return send(res, 404, status(404, 'NotFound', `${collection} "${name}" not found`));
    }
    if (method === 'GET') return send(res, 200, current);
    if (method === 'DELETE') {
      this.objects.delete(key(name));
      if (collection === 'services') await this.knative.stop(namespace, name);
      return send(res, 200, status(200, '', 'deleted', 'Success'));
    }
    if (method === 'PUT') {
      if (!this.validate(res, `${collection}/${name}`, body)) return;
      const object = body as Obj;
      const sentVersion = object.metadata.resourceVersion;
      // Custom resources must name the version they replace (built-in kinds may leave it out).
      if (collection === 'services' && sentVersion === undefined) {
        return send(
          res,
          422,
          status(422, 'Invalid', 'metadata.resourceVersion: must be specified for an update'),
        );
      }
      if (sentVersion !== undefined && sentVersion !== current.metadata.resourceVersion) {
        return send(res, 409, status(409, 'Conflict', 'the object has been modified'));
      }
      this.objects.set(key(name), await this.withStatus(collection, namespace, this.stamp(object)));
      return send(res, 200, this.objects.get(key(name)));
    }
    send(res, 405, status(405, 'MethodNotAllowed', method));
  }

  private handleJobs(
    res: ServerResponse,
    method: string,
    namespace: string,
    name: string | undefined,
    body: unknown,
    url: URL,
  ): void {
    const key = (n: string): string => `${namespace}/${n}`;
    if (method === 'POST' && name === undefined) {
      if (!this.validate(res, 'jobs', body)) return;
      const object = this.stamp(body as Obj);
      if (this.jobs.has(key(object.metadata.name))) {
        return send(
          res,
          409,
          status(409, 'AlreadyExists', `jobs.batch "${object.metadata.name}" already exists`),
        );
      }
      const job = this.launch(namespace, object);
      this.jobs.set(key(object.metadata.name), job);
      return send(res, 201, { ...object, status: job.status });
    }
    if (method === 'DELETE' && name === undefined) {
      const selector = url.searchParams.get('labelSelector') ?? '';
      for (const [jobKey, job] of this.jobs) {
        if (namespace === job.object.metadata.namespace && matches(labelsOf(job.object), selector)) {
          this.stop(job);
          this.jobs.delete(jobKey);
        }
      }
      return send(res, 200, status(200, '', 'deleted', 'Success'));
    }
    const job = name === undefined ? undefined : this.jobs.get(key(name));
    if (job === undefined)
      return send(res, 404, status(404, 'NotFound', `jobs.batch "${name ?? ''}" not found`));
    if (method === 'GET') return send(res, 200, { ...job.object, status: job.status });
    if (method === 'DELETE') {
      this.stop(job);
      this.jobs.delete(key(job.object.metadata.name));
      return send(res, 200, { ...job.object, status: job.status });
    }
    send(res, 405, status(405, 'MethodNotAllowed', method));
  }

  private handlePods(res: ServerResponse, namespace: string, podName: string | undefined, url: URL): void {
    const jobs = [...this.jobs.values()].filter((job) => job.object.metadata.namespace === namespace);
    if (podName !== undefined) {
      const job = jobs.find((j) => j.pod.name === podName);
      if (job === undefined) return send(res, 404, status(404, 'NotFound', `pods "${podName}" not found`));
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(job.pod.log);
      return;
    }
    const selector = url.searchParams.get('labelSelector') ?? '';
    const items = jobs
      .filter((job) => matches({ 'job-name': job.object.metadata.name }, selector))
      .map((job) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: job.pod.name,
          namespace,
          creationTimestamp: job.pod.created,
          labels: {
            'job-name': job.object.metadata.name,
            'batch.kubernetes.io/job-name': job.object.metadata.name,
          },
        },
        status: {
          phase: 'terminated' in job.pod.state ? 'Failed' : 'Running',
          containerStatuses: [
            {
              name: 'oscar-container',
              state: job.pod.state,
              ready: false,
              restartCount: 0,
              image: '',
              imageID: '',
            },
          ],
        },
      }));
    send(res, 200, { apiVersion: 'v1', kind: 'PodList', metadata: {}, items });
  }

  /** A Knative Service becomes Ready at once, its pods served by the fake watchdog at `status.address.url`. */
  private async withStatus(collection: Collection, namespace: string, object: Obj): Promise<Obj> {
    if (collection !== 'services') return object;
    const spec = object.spec as { template: { spec: { containers: Container[] } } };
    const url = await this.knative.serve(
      namespace,
      object.metadata.name,
      spec.template.spec.containers[0] as Container,
    );
    return {
      ...object,
      status: {
        url: `http://${object.metadata.name}.${namespace}.svc.cluster.local`,
        address: { url },
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }],
      },
    };
  }

  private stamp(object: Obj): Obj {
    return {
      ...object,
      metadata: {
        ...object.metadata,
        uid: randomUUID(),
        resourceVersion: String(this.version++),
        creationTimestamp: new Date().toISOString(),
      },
    };
  }

  private launch(namespace: string, object: Obj): FakeJob {
    const spec = object.spec as {
      activeDeadlineSeconds?: number;
      template: { spec: { containers: Container[] } };
    };
    const container = spec.template.spec.containers[0] as Container;
    const job: FakeJob = {
      object,
      status: { active: 1, startTime: new Date().toISOString() },
      pod: {
        name: `${object.metadata.name}-${randomUUID().slice(0, 5)}`,
        created: new Date().toISOString(),
        state: { running: { startedAt: new Date().toISOString() } },
        log: '',
      },
      running: null,
      deadline: null,
    };
    const env = this.resolveEnv(namespace, container);
    if (typeof env === 'string') {
      job.pod.state = { waiting: { reason: 'CreateContainerConfigError', message: env } };
      return job;
    }
    if (container.image === '' || container.image.startsWith('missing/')) {
      job.pod.state = {
        waiting: { reason: 'ErrImagePull', message: `pull access denied for ${container.image}` },
      };
      return job;
    }
    const finish = (
      exitCode: number,
      reason?: string,
      condition?: { reason: string; message: string },
    ): void => {
      if (job.running === null) return;
      job.running = null;
      if (job.deadline !== null) clearTimeout(job.deadline);
      const now = new Date().toISOString();
      job.pod.state = {
        terminated: { exitCode, reason: reason ?? (exitCode === 0 ? 'Completed' : 'Error'), finishedAt: now },
      };
      const failedJob = exitCode !== 0 || condition !== undefined;
      job.status = {
        startTime: job.status.startTime,
        completionTime: failedJob ? undefined : now,
        ...(failedJob ? { failed: 1 } : { succeeded: 1 }),
        conditions: failedJob
          ? [
              {
                type: 'Failed',
                status: 'True',
                reason: condition?.reason ?? 'BackoffLimitExceeded',
                message: condition?.message ?? 'Job has reached the specified backoff limit',
                lastTransitionTime: now,
                lastProbeTime: now,
              },
            ]
          : [{ type: 'Complete', status: 'True', lastTransitionTime: now, lastProbeTime: now }],
      };
    };
    job.running = this.kubelet({
      jobName: object.metadata.name,
      container,
      env,
      appendLog: (text) => (job.pod.log += text),
      exit: (code, reason) => finish(code, reason),
    });
    if (spec.activeDeadlineSeconds !== undefined) {
      job.deadline = setTimeout(() => {
        const running = job.running;
        finish(137, 'Error', {
          reason: 'DeadlineExceeded',
          message: 'Job was active longer than specified deadline',
        });
        running?.kill();
      }, spec.activeDeadlineSeconds * 1000);
    }
    return job;
  }

  private stop(job: FakeJob): void {
    if (job.deadline !== null) clearTimeout(job.deadline);
    const running = job.running;
    job.running = null;
    running?.kill();
  }

  /** The container's environment, or why it cannot be built (a missing ConfigMap, Secret or key). */
  resolveEnv(namespace: string, container: Container): Record<string, string> | string {
    const env: Record<string, string> = {};
    for (const source of container.envFrom ?? []) {
      const ref = source.secretRef ?? source.configMapRef;
      const kind = source.secretRef !== undefined ? 'secrets' : 'configmaps';
      const object = ref === undefined ? undefined : this.objects.get(`${kind}/${namespace}/${ref.name}`);
      if (object === undefined) return `${kind} "${ref?.name ?? ''}" not found`;
      Object.assign(env, dataOf(object));
    }
    for (const entry of container.env ?? []) {
      if (entry.value !== undefined) {
        env[entry.name] = entry.value;
        continue;
      }
      const ref = entry.valueFrom?.configMapKeyRef ?? entry.valueFrom?.secretKeyRef;
      const kind = entry.valueFrom?.configMapKeyRef !== undefined ? 'configmaps' : 'secrets';
      const object = ref === undefined ? undefined : this.objects.get(`${kind}/${namespace}/${ref.name}`);
      const value = object === undefined || ref === undefined ? undefined : dataOf(object)[ref.key];
      if (value === undefined) return `couldn't find key ${ref?.key ?? '?'} in ${kind} ${ref?.name ?? '?'}`;
      env[entry.name] = value;
    }
    return env;
  }
}

function dataOf(object: Obj): Record<string, string> {
  const data = (object.data ?? {}) as Record<string, string>;
  if (object.kind !== 'Secret') return { ...data };
  const decoded: Record<string, string> = {};
  for (const [key, value] of Object.entries(data))
    decoded[key] = Buffer.from(value, 'base64').toString('utf8');
  return decoded;
}

function labelsOf(object: Obj): Record<string, string> {
  return (object.metadata.labels ?? {}) as Record<string, string>;
}

/** Equality-based label selectors (`a=b,c=d`), the only kind the executor sends. */
function matches(labels: Record<string, string>, selector: string): boolean {
  return selector
    .split(',')
    .filter((term) => term !== '')
    .every((term) => {
      const [name = '', value = ''] = term.split('=');
      return labels[name] === value;
    });
}

function status(code: number, reason: string, message: string, outcome = 'Failure'): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: outcome, message, reason, code };
}

function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
