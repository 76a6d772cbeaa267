import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBanner, type BannerInput } from './server.js';

const input: BannerInput = {
  apiUrl: 'http://127.0.0.1:8080',
  s3Url: 'http://127.0.0.1:9000',
  version: '0.1.0',
  hasHelloExample: true,
  config: {
    dataDir: '/p/.nubes-data',
    adminUser: 'admin',
    adminPassword: 'pw-123',
    s3AccessKey: 'AKEXAMPLE',
    s3SecretKey: 'secret-456',
    generatedCredentials: true,
  },
};

void test('the banner shows where everything is, and generated credentials once with where they are kept', () => {
  const banner = formatBanner(input);
  assert.match(banner, /API {8}http:\/\/127\.0\.0\.1:8080\n/);
  assert.match(banner, /Dashboard {2}http:\/\/127\.0\.0\.1:8080\/ui\n/);
  assert.match(banner, /S3 {9}http:\/\/127\.0\.0\.1:9000\n/);
  assert.match(banner, /Admin user admin\n/);
  assert.match(banner, /stored in \/p\/\.nubes-data\/credentials\.json/);
  assert.match(banner, /admin password {2}pw-123/);
  assert.match(banner, /S3 secret key {3}secret-456/);
  assert.match(banner, /npx nubes apply examples\/hello\.yaml\n {2}npx nubes service run hello -i 'Ada'\n/);
});

void test('on later starts the banner does not repeat the secrets', () => {
  const banner = formatBanner({
    ...input,
    hasHelloExample: false,
    config: { ...input.config, generatedCredentials: false },
  });
  assert.doesNotMatch(banner, /pw-123|secret-456|AKEXAMPLE/);
  assert.match(banner, /npx nubes apply <your-fdl\.yaml>/);
});
