/**
 * @module test/deploy/kubernetes-manifests.test
 * The plain manifests that install Nubes into a cluster (deploy/kubernetes/), checked without a cluster:
 * every object against the strict Kubernetes v1.30.0 schemas, the server's executor configuration as the
 * pod will see it (after Kubernetes expands `$(VAR)`), and the RBAC Role against every call the Kubernetes
 * executor makes: the executor is run against the in-test API server (not live) and each recorded request
 * is turned into the (group, resource, verb) the API server would authorize.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { kubernetesExecutorConfigSchema } from '../../src/executors/kubernetes/index.js';
import { makeService, TestDataDir } from '../executors/helpers.js';
import { KUBERNETES_SCHEMA_VERSION, kubernetesSchemaErrors } from '../executors/kubernetes/kube-schema.js';
import { startKubeFixture, type KubeFixture } from '../executors/kubernetes/kube-fixture.js';

const DIR = join(process.cwd(), 'deploy', 'kubernetes');

type Obj = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string } };

async function manifests(): Promise<Obj[]> {
  const objects: Obj[] = [];
  for (const file of (await readdir(DIR)).filter((name) => name.endsWith('.yaml')).sort()) {
    for (const document of parseAllDocuments(await readFile(join(DIR, file), 'utf8'))) {
      assert.deepEqual(document.errors, [], `${file}: YAML errors`);
      objects.push(document.toJSON() as Obj);
    }
  }
  return objects;
}

function find(objects: Obj[], kind: string, name: string): Obj {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found;
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** The authorization attributes of one API request, as the API server derives them. */
function attributes(
  method: string,
  path: string,
): { group: string; resource: string; verb: string; namespace: string } {
  const match =
    /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+)(?:\/([^/]+))?)?$/.exec(
      path,
    );
  assert.ok(match, `unexpected API path ${path}`);
  const [, group = '', namespace = '', resource = '', name, sub] = match;
  const collection = name === undefined;
  const verb =
    method === 'GET'
      ? collection
        ? 'list'
        : 'get'
      : method === 'POST'
        ? 'create'
        : method === 'PUT'
          ? 'update'
          : method === 'PATCH'
            ? 'patch'
            : collection
              ? 'deletecollection'
              : 'delete';
  return { group, resource: sub === undefined ? resource : `${resource}/${sub}`, verb, namespace };
}

void describe(`Kubernetes manifests of Nubes (validated against the ${KUBERNETES_SCHEMA_VERSION} schemas, not live)`, () => {
  test('every object is valid, and the install has its namespaces, account, RBAC, volume, server and service', async () => {
    const objects = await manifests();
    for (const object of objects) {
      assert.deepEqual(kubernetesSchemaErrors(object), [], `${object.kind} ${object.metadata.name}`);
    }
    assert.deepEqual(
      objects
        .map((object) => `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`)
        .sort(),
      [
        'Deployment/nubes/nubes',
        'Namespace//nubes',
        'Namespace//nubes-svc',
        'PersistentVolumeClaim/nubes/nubes-data',
        'Role/nubes-svc/nubes-executor',
        'RoleBinding/nubes-svc/nubes-executor',
        'Service/nubes/nubes',
        'ServiceAccount/nubes/nubes',
      ],
    );
  });

  test("the server's executor configuration is valid once Kubernetes expands it, and points at the Service", async () => {
    const objects = await manifests();
    const deployment = find(objects, 'Deployment', 'nubes') as Obj & {
      spec: {
        template: {
          spec: { serviceAccountName: string; containers: { env: { name: string; value?: string }[] }[] };
        };
      };
    };
    const pod = deployment.spec.template.spec;
    assert.equal(pod.serviceAccountName, 'nubes');
    const env = pod.containers[0]?.env ?? [];
    const raw = env.find((entry) => entry.name === 'NUBES_EXECUTORS')?.value ?? '';
    // Kubernetes expands $(NAME) from variables defined earlier in the list.
    const earlier = env
      .slice(
        0,
        env.findIndex((entry) => entry.name === 'NUBES_EXECUTORS'),
      )
      .map((e) => e.name);
    const expanded = raw.replace(/\$\(([A-Z0-9_]+)\)/g, (_whole, name: string) => {
      assert.ok(earlier.includes(name), `$(${name}) is not defined before NUBES_EXECUTORS`);
      return `value-of-${name}`;
    });
    const config = kubernetesExecutorConfigSchema.parse(
      (JSON.parse(expanded) as { kubernetes: unknown }).kubernetes,
    );
    assert.equal(config.inCluster, true);
    const role = find(objects, 'Role', 'nubes-executor');
    assert.equal(config.namespace, role.metadata.namespace);
    const service = find(objects, 'Service', 'nubes') as Obj & {
      spec: { ports: { name: string; port: number }[] };
    };
    const s3 = service.spec.ports.find((port) => port.name === 's3');
    assert.equal(config.storage?.endpoint, `http://nubes.nubes.svc:${s3?.port}`);
    assert.equal(config.storage?.accessKey, 'value-of-NUBES_S3_ACCESS_KEY');
    const binding = find(objects, 'RoleBinding', 'nubes-executor') as Obj & {
      subjects: { kind: string; name: string; namespace: string }[];
    };
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'nubes', namespace: 'nubes' }]);
  });

  void describe('the Role allows every call of the Kubernetes executor (in-test endpoint, not live)', () => {
    let fixture: KubeFixture;
    let data: TestDataDir;
    before(async () => {
      fixture = await startKubeFixture();
      data = await TestDataDir.create();
    });
    after(async () => {
      await fixture.close();
      await data.remove();
    });

    test('deploy with Knative, a job to its end, a cancelled job, undeploy: each request is authorized', async () => {
      const executor = await fixture.executor({ knative: { enabled: true }, namespace: 'nubes-svc' });
      const service = makeService({
        name: 'rbac-check',
        executor: 'kubernetes',
        image: 'registry.example/busybox:1',
        script: 'echo hello\n',
        secrets: { TOKEN: 't' },
      });
      await executor.deploy(service);
      await executor.deploy(service);
      const done = await executor.run(await data.invocation(service, { body: '{}', event: '{}' }));
      assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
      // A sync call goes through the Knative Service (read for its address).
      const sync = await executor.run({
        ...(await data.invocation(service, { body: '{}', event: '{}' })),
        sync: true,
      });
      assert.equal(sync.status, 'succeeded', JSON.stringify(sync.error));
      const slowService = { ...service, name: 'rbac-slow', script: 'sleep 30\n' };
      await executor.deploy(slowService);
      const controller = new AbortController();
      const slow = await data.invocation(slowService, { body: '{}', event: '{}', signal: controller.signal });
      const cancelled = executor.run(slow);
      setTimeout(() => controller.abort(), 300);
      assert.equal((await cancelled).error?.code, 'JOB_CANCELLED');
      await executor.undeploy(slowService.name);
      await executor.undeploy(service.name);
      await executor.close();

      const objects = await manifests();
      const role = find(objects, 'Role', 'nubes-executor') as Obj & { rules: Rule[] };
      const seen = new Set<string>();
      for (const request of fixture.api.requests) {
        const { group, resource, verb, namespace } = attributes(request.method, request.path);
        seen.add(`${group}/${resource}:${verb}`);
        assert.equal(
          namespace,
          role.metadata.namespace,
          `${request.method} ${request.path} outside the Role's namespace`,
        );
        const allowed = role.rules.some(
          (rule) =>
            rule.apiGroups.includes(group) && rule.resources.includes(resource) && rule.verbs.includes(verb),
        );
        assert.ok(
          allowed,
          `the Role does not allow ${verb} ${group || 'core'}/${resource} (${request.method} ${request.path})`,
        );
      }
      // The check saw the executor's whole range of calls, not a few.
      for (const call of [
        '/configmaps:create',
        'batch/jobs:create',
        'batch/jobs/status:get',
        '/pods/log:get',
        'serving.knative.dev/services:create',
        'serving.knative.dev/services:get',
        'batch/jobs:deletecollection',
      ]) {
        assert.ok(seen.has(call), `no ${call} among ${[...seen].join(', ')}`);
      }
    });
  });
});
