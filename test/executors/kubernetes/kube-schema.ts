/**
 * @module test/executors/kubernetes/kube-schema
 * Validates Kubernetes objects against the API's own schemas: the strict JSON schemas of Kubernetes v1.30.0
 * (test/fixtures/kubernetes-v1.30.0, source in its README) for built-in kinds, and Knative Serving's schema
 * (from @kubernetes-models/knative) for Knative Services. Strict means an unknown field is an error, as with
 * the API server's `fieldValidation=Strict`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { Service as KnativeService } from '@kubernetes-models/knative/serving.knative.dev/v1/Service';

/** The Kubernetes version the built-in schemas come from. */
export const KUBERNETES_SCHEMA_VERSION = 'v1.30.0';

const SCHEMA_DIR = join(process.cwd(), 'test', 'fixtures', `kubernetes-${KUBERNETES_SCHEMA_VERSION}`);

/** apiVersion/kind -> schema file. */
const SCHEMA_FILES: Record<string, string> = {
  'batch/v1/Job': 'job-batch-v1.json',
  'v1/ConfigMap': 'configmap-v1.json',
  'v1/Secret': 'secret-v1.json',
  'v1/Namespace': 'namespace-v1.json',
  'v1/ServiceAccount': 'serviceaccount-v1.json',
  'v1/Service': 'service-v1.json',
  'v1/PersistentVolumeClaim': 'persistentvolumeclaim-v1.json',
  'rbac.authorization.k8s.io/v1/Role': 'role-rbac-v1.json',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'rolebinding-rbac-v1.json',
  'apps/v1/Deployment': 'deployment-apps-v1.json',
};

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat('int32', {
  type: 'number',
  validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31,
});
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
ajv.addFormat('double', { type: 'number', validate: () => true });
ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
ajv.addFormat('date-time', { type: 'string', validate: (s: string) => !Number.isNaN(Date.parse(s)) });
const compiled = new Map<string, ValidateFunction>();

/** The schema errors of `object` ([] when valid); an unknown apiVersion/kind is an error too. */
export function kubernetesSchemaErrors(object: unknown): string[] {
  if (typeof object !== 'object' || object === null) return ['not an object'];
  const { apiVersion, kind } = object as { apiVersion?: unknown; kind?: unknown };
  const key = `${String(apiVersion)}/${String(kind)}`;
  if (key === 'serving.knative.dev/v1/Service') {
    try {
      new KnativeService(object).validate();
      return [];
    } catch (error) {
      return [String((error as Error).message)];
    }
  }
  const file = SCHEMA_FILES[key];
  if (file === undefined) return [`no schema for ${key}`];
  let validate = compiled.get(key);
  if (validate === undefined) {
    validate = ajv.compile(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')) as object);
    compiled.set(key, validate);
  }
  if (validate(object)) return [];
  return (validate.errors ?? []).map(
    (error) => `${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`,
  );
}
