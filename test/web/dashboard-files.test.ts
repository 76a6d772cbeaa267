/**
 * How the dashboard's files are served: / redirects to /ui/, the app loads without credentials while its
 * data needs them, files go out compressed, and the first load (the page and everything it references)
 * stays under 300 KB compressed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT, startServer, type ServerProcess } from '../support/server-process.js';

const FIRST_LOAD_LIMIT_BYTES = 300 * 1024;
const WEB = join(ROOT, 'dist', 'web');

let server: ServerProcess;

before(async () => {
  server = await startServer();
});
after(async () => {
  await server.cleanup();
});

/** The files index.html loads: scripts, stylesheets, module preloads. */
function referencedAssets(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)].map((match) => match[1] ?? '');
}

test('the built first load (index.html and what it references) is under 300 KB gzip', async () => {
  const html = await readFile(join(WEB, 'index.html'), 'utf8');
  const assets = referencedAssets(html);
  assert.ok(
    assets.some((path) => path.endsWith('.js')),
    `no script in index.html:\n${html}`,
  );
  let total = gzipSync(html).length;
  for (const asset of assets) {
    const data = await readFile(join(WEB, asset.replace(/^\/ui\//, '')));
    total += gzipSync(data, { level: 9 }).length;
  }
  assert.ok(total < FIRST_LOAD_LIMIT_BYTES, `first load is ${total} bytes gzip`);
});

test('/ redirects to /ui/, whose files are served compressed and without credentials', async () => {
  const root = await fetch(`${server.apiUrl}/`, { redirect: 'manual' });
  assert.equal(root.status, 302);
  assert.equal(root.headers.get('location'), '/ui/');

  const page = await fetch(`${server.apiUrl}/ui/`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.equal(page.headers.get('content-encoding'), 'gzip');
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const html = await page.text();
  assert.match(html, /<div id="app">/);

  let transferred = 0;
  for (const asset of referencedAssets(html)) {
    const response = await fetch(`${server.apiUrl}${asset}`, { headers: { 'accept-encoding': 'br' } });
    assert.equal(response.status, 200, asset);
    assert.equal(response.headers.get('content-encoding'), 'br', asset);
    assert.match(response.headers.get('cache-control') ?? '', /immutable/);
    transferred += Number(response.headers.get('content-length'));
    await response.arrayBuffer();
  }
  assert.ok(transferred > 0 && transferred < FIRST_LOAD_LIMIT_BYTES, `transferred ${transferred} bytes`);

  // The app is public; what it shows is not.
  const services = await fetch(`${server.apiUrl}/system/services`);
  assert.equal(services.status, 401);
});

test('dashboard paths cannot leave the build folder', async () => {
  const secret = await stat(join(server.dataDir, 'credentials.json'));
  assert.ok(secret.isFile());
  for (const path of [
    '/ui/../package.json',
    '/ui/%2e%2e/%2e%2e/package.json',
    '/ui/..%2f..%2fpackage.json',
  ]) {
    const response = await fetch(`${server.apiUrl}${path}`);
    const body = await response.text();
    assert.ok(!body.includes('"name": "nubes"'), `${path} answered ${response.status} with package.json`);
  }
});
