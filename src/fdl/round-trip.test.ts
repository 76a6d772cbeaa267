import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PlatformError } from '../core/index.js';
import { loadFdlFile } from './fdl-parser.js';
import { toServiceSpec } from './resolve-service.js';
import { validateServiceJson, type ServiceJson } from './service-json.js';
import type { ServiceSpec } from './service-spec.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/fdl/', import.meta.url));

/** Properties every resolved spec has, whatever the input. */
function assertSpecInvariants(spec: ServiceSpec, json: ServiceJson): void {
  assert.equal(spec.name, json.name);
  assert.ok(spec.cpu > 0 && Number.isFinite(spec.cpu));
  assert.ok(Number.isInteger(spec.memoryBytes) && spec.memoryBytes > 0);
  assert.ok(spec.retry.maxAttempts >= 1 && spec.retry.initialBackoffMs <= spec.retry.maxBackoffMs);
  assert.ok(spec.timeoutMs >= 0 && spec.maxConcurrency >= 0);
  for (const io of [...spec.input, ...spec.output]) {
    assert.match(io.provider, /^(minio|s3|onedata|webdav|rucio)\../);
    assert.equal(io.folder === '' ? io.bucket : `${io.bucket}/${io.folder}`, io.path);
    assert.ok(!io.path.startsWith('/') && !io.path.endsWith('/'));
  }
}

void test('every valid fixture: Service JSON is a fixed point of validation and resolves to the same spec', async () => {
  const files = readdirSync(FIXTURES).filter((name) => name.endsWith('.yaml'));
  assert.ok(files.length >= 5);
  for (const file of files) {
    const doc = await loadFdlFile(`${FIXTURES}${file}`);
    for (const { json } of doc.services) {
      // What the API stores is JSON: a stored service must validate to itself.
      const again = validateServiceJson(JSON.parse(JSON.stringify(json)));
      assert.deepEqual(again, json, file);
      const spec = toServiceSpec(again);
      assert.deepEqual(spec, toServiceSpec(json), file);
      assertSpecInvariants(spec, json);
    }
  }
});

/** A small deterministic PRNG (mulberry32): failures replay with the same seed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CPUS: [string, number][] = [
  ['0.2', 0.2],
  ['1', 1],
  ['1.0', 1],
  ['500m', 0.5],
  ['2', 2],
  ['250m', 0.25],
  ['.5', 0.5],
];
const MEMORIES: [string, number][] = [
  ['256Mi', 268435456],
  ['1Gi', 1073741824],
  ['512M', 512e6],
  ['1e9', 1e9],
  ['64Ki', 65536],
];
const PROVIDERS = [
  'minio',
  'minio.default',
  'MINIO.edge',
  's3',
  's3.backup',
  'webdav.dcache',
  'onedata.hub',
  'rucio.lab',
];

void test('generated services: validation and resolution agree with the values they were built from', () => {
  const next = random(20250612);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const word = () =>
    Array.from({ length: 1 + Math.floor(next() * 8) }, () =>
      pick('abcdefghijklmnopqrstuvwxyz0123456789'.split('')),
    ).join('');
  for (let round = 0; round < 300; round++) {
    const [cpuText, cpu] = pick(CPUS);
    const [memoryText, memoryBytes] = pick(MEMORIES);
    const name = `s${word()}`.slice(0, 39);
    const io = () => {
      const segments = Array.from({ length: Math.floor(next() * 4) }, word);
      return {
        storage_provider: pick(PROVIDERS),
        path: `${next() < 0.3 ? '/' : ''}${segments.join('/') || word()}${next() < 0.3 ? '/' : ''}`,
      };
    };
    const retries = Math.floor(next() * 6);
    const input: Record<string, unknown> = {
      name,
      image: `registry.example.org/${word()}:${Math.floor(next() * 10)}`,
      cpu: next() < 0.2 ? undefined : cpuText,
      memory: next() < 0.2 ? undefined : memoryText,
      input: Array.from({ length: Math.floor(next() * 3) }, io),
      output: Array.from({ length: Math.floor(next() * 3) }, io),
      max_retries: retries,
      timeout: Math.floor(next() * 1000) / 10,
    };
    const json = validateServiceJson(JSON.parse(JSON.stringify(input)));
    const spec = toServiceSpec(json);
    assertSpecInvariants(spec, json);
    assert.equal(spec.cpu, input.cpu === undefined ? 0.2 : cpu);
    assert.equal(spec.memoryBytes, input.memory === undefined ? 268435456 : memoryBytes);
    assert.equal(spec.retry.maxAttempts, retries + 1);
    assert.equal(spec.timeoutMs, Math.round((input.timeout as number) * 1000));
    (input.input as { storage_provider: string; path: string }[]).forEach((raw, index) => {
      const resolved = spec.input[index]!;
      const bare = !raw.path.replace(/^\/+|\/+$/g, '').includes('/');
      const rewritten = bare && /^(minio|s3)\./.test(resolved.provider);
      assert.equal(
        resolved.bucket === name && resolved.path.startsWith(`${name}/`),
        rewritten || resolved.path.startsWith(`${name}/`),
      );
    });

    // Any stray key is reported at its own path, and nothing else is.
    const stray = `x_${word()}`;
    try {
      validateServiceJson({ ...JSON.parse(JSON.stringify(input)), [stray]: 1 });
      assert.fail('a stray key must fail');
    } catch (error) {
      assert.ok(error instanceof PlatformError);
      assert.deepEqual(
        (error.details as { issues: { path: string }[] }).issues.map((i) => i.path),
        [stray],
      );
    }
  }
});
