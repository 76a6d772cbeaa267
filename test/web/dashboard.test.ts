/**
 * The dashboard as a person uses it, in real headless Chromium against the real server process: log in
 * with the keyboard, write a service in the FDL editor (a deliberate error shown at its line first), drop
 * files on a folder, watch a job go from queued to succeeded, follow its log, download the output, invoke
 * the service synchronously, re-drive a dead letter, and the same pages on a phone-sized screen.
 * Screenshots go to test-artifacts/web/; no console error may appear during the run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { putText, s3For } from '../support/s3-client.js';
import { openBrowser, type BrowserSession } from './browser.js';

let server: ServerProcess;
let session: BrowserSession;

// Line 7 holds the deliberate mistake: a memory quantity that is no quantity.
const BAD_FDL = `functions:
  oscar:
    - local:
        name: upper
        image: docker.io/library/alpine:3.20
        script: upper.sh
        memory: lots
        max_concurrency: 1
        input:
          - storage_provider: minio.default
            path: upper/in
        output:
          - storage_provider: minio.default
            path: upper/out
`;

const SCRIPT = `#!/bin/sh
set -eu
echo "upper: processing $(basename "$INPUT_FILE_PATH")"
sleep 2
tr '[:lower:]' '[:upper:]' < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH")"
echo "upper: done"
`;

before(async () => {
  server = await startServer();
  session = await openBrowser(server.apiUrl);
});

after(async () => {
  await session?.close();
  await server?.cleanup();
});

test('the dashboard, end to end in headless Chromium', async (t) => {
  const { page } = session;
  const creds = await server.credentials();

  await t.test('/ leads to the login page, and the keyboard logs in', async () => {
    await page.goto('/');
    assert.match(page.url(), /\/ui\/$/);
    const user = page.getByLabel('User', { exact: true });
    await user.focus();
    await user.fill('');
    await page.keyboard.type(creds.adminUser);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.id'), 'login-password');
    await page.keyboard.type(creds.adminPassword);
    await session.screenshot('01-login');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Services' }).waitFor();
    await page.getByText('No services yet').waitFor();
  });

  await t.test('keyboard: the skip link, then the main navigation, in order', async () => {
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.textContent.trim()'), 'Skip to content');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.textContent.trim()'), 'Nubes');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.textContent.trim()'), 'Services');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.textContent.trim()'), 'Buckets');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Buckets', level: 1 }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Buckets' }).getAttribute('aria-current'), 'page');
  });

  await t.test('the FDL editor shows a deliberate error at its line, then creates the service', async () => {
    await page.goto('/ui/#/services/new');
    const fdl = page.getByLabel('FDL', { exact: true });
    await fdl.fill(BAD_FDL);
    await page.getByLabel('Script file name').fill('upper.sh');
    await page.getByLabel('Script upper.sh').fill(SCRIPT);
    const marked = page.locator('.gutter-line.error');
    await marked.first().waitFor();
    assert.deepEqual(await marked.allTextContents(), ['7']);
    const problem = page.locator('#fdl-problems li.error');
    await problem.first().waitFor();
    const text = await problem.first().textContent();
    assert.match(text ?? '', /^fdl\.yaml:7:17 error .*memory.*lots/);
    assert.equal(await page.getByRole('button', { name: 'Create service' }).isDisabled(), true);
    // The diagnostic moves the cursor to its line.
    await problem.first().getByRole('button').click();
    const caret = await page.evaluate<number>(
      `(() => { const a = document.getElementById('fdl-text'); return a.value.slice(0, a.selectionStart).split('\\n').length; })()`,
    );
    assert.equal(caret, 7);
    await session.screenshot('02-fdl-error-at-line');

    await fdl.fill(BAD_FDL.replace('memory: lots', 'memory: 64Mi'));
    await page.getByText('Valid: upper').waitFor();
    await page.getByRole('button', { name: 'Create service' }).click();
    await page.waitForURL(/#\/services\/upper$/);
    await page.getByRole('heading', { name: 'upper', level: 1 }).waitFor();
    const service = (await (await server.api('/system/services/upper')).json()) as {
      script: string;
      memory: string;
    };
    assert.equal(service.script, SCRIPT);
    assert.equal(service.memory, '64Mi');
  });

  let firstJob = '';
  let secondJob = '';
  await t.test(
    'files dropped on a folder upload with progress, and their jobs go queued -> succeeded',
    async () => {
      await page.goto('/ui/#/buckets/upper/in/');
      await page.getByRole('heading', { name: 'upper/in/' }).waitFor();
      const dataTransfer = await page.evaluateHandle(`(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['alpha file\\n'], 'a.txt', { type: 'text/plain' }));
      dt.items.add(new File(['bravo file\\n'], 'b.txt', { type: 'text/plain' }));
      dt.items.add(new File(['charlie file\\n'], 'c.txt', { type: 'text/plain' }));
      return dt;
    })()`);
      await page.dispatchEvent('[data-testid=dropzone]', 'dragover', { dataTransfer });
      await page.dispatchEvent('[data-testid=dropzone]', 'drop', { dataTransfer });
      await page.locator('.transfers li[data-state=done]').nth(2).waitFor();
      await page.locator('tr[data-key="in/a.txt"]').waitFor();
      await page.locator('tr[data-key="in/b.txt"]').waitFor();
      await page.locator('tr[data-key="in/c.txt"]').waitFor();
      await session.screenshot('03-uploaded');

      // max_concurrency 1 and a script of two seconds: the last job waits in the queue while the others run.
      await page.getByRole('link', { name: 'Services' }).click();
      await page.getByRole('link', { name: 'upper' }).click();
      await page.locator('tr[data-job] .status-pending').first().waitFor();
      await session.screenshot('04-job-queued');
      const waiting = await page
        .locator('tr[data-job]:has(.status-pending)')
        .first()
        .getAttribute('data-job');
      const jobs = (await (await server.api('/system/logs/upper')).json()) as {
        jobs: Record<string, { status: string; input: string }>;
      };
      assert.equal(Object.keys(jobs.jobs).length, 3);
      secondJob = waiting ?? '';
      firstJob = Object.keys(jobs.jobs).find((id) => id !== secondJob) ?? '';
      const secondInput = jobs.jobs[secondJob]?.input.split('/').pop() ?? '';
      assert.match(secondInput, /^[abc]\.txt$/);
      await page.locator(`tr[data-job="${secondJob}"] a`).click();
      await page.getByRole('heading', { name: `Job ${secondJob}` }).waitFor();
      // The log follows while the job runs: text arrives before the job ends.
      await page.getByTestId('job-log').getByText('upper: processing').waitFor();
      await page.getByTestId('job-status').getByText('Succeeded').waitFor();
      assert.equal(
        await page.getByTestId('job-log').textContent(),
        `upper: processing ${secondInput}\nupper: done\n`,
      );
      assert.equal(await page.getByTestId('job-exit-code').textContent(), '0');
      await page.locator(`tr[data-job="${firstJob}"] .status-succeeded`).waitFor();
      await page.locator(`tr[data-job="${secondJob}"] .status-succeeded`).waitFor();
      await session.screenshot('05-job-succeeded-log');
    },
  );

  await t.test('the live counts on the services page, and the charts', async () => {
    await page.getByRole('link', { name: 'Services' }).click();
    const row = page.locator('tr[data-service=upper]');
    await row.locator('[data-count=succeeded]').getByText('3').waitFor();
    assert.equal(await row.locator('[data-count=failed]').textContent(), '0');
    await page.goto('/ui/#/services/upper');
    const perMinute = page.getByRole('img', { name: /Jobs finished per minute: 3 succeeded, 0 failed/ });
    await perMinute.waitFor();
    await page.getByRole('img', { name: /Duration distribution/ }).waitFor();
    await page.getByRole('img', { name: /Queue depth/ }).waitFor();
  });

  await t.test('the output downloads from the output folder', async () => {
    await page.goto('/ui/#/buckets/upper/out/');
    await page.locator('tr[data-key="out/a.txt"]').waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download a.txt' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'a.txt');
    const path = await download.path();
    assert.equal(await readFile(path, 'utf8'), 'ALPHA FILE\n');
    await page.getByRole('button', { name: 'Share link to a.txt' }).click();
    const url = await page.getByLabel(/Link to out\/a.txt/).inputValue();
    const shared = await fetch(url);
    assert.equal(shared.status, 200);
    assert.equal(await shared.text(), 'ALPHA FILE\n');
    await session.screenshot('06-output-folder');
  });

  await t.test('a large file uploads in parts', async () => {
    await page.goto('/ui/#/buckets/upper/big/');
    const size = 20 * 1024 * 1024 + 123;
    const dataTransfer = await page.evaluateHandle(`(() => {
      const bytes = new Uint8Array(${size});
      for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i / 4096) % 251;
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'large.bin', { type: 'application/octet-stream' }));
      return dt;
    })()`);
    await page.dispatchEvent('[data-testid=dropzone]', 'drop', { dataTransfer });
    await page.locator('.transfers li[data-state=done]').waitFor({ timeout: 60_000 });
    const listing = (await (await server.api('/system/storage/upper?prefix=big/')).json()) as {
      files: { key: string; size: number }[];
    };
    assert.deepEqual(
      listing.files.map((f) => [f.key, f.size]),
      [['big/large.bin', size]],
    );
  });

  await t.test('the sync invoke form answers with the output', async () => {
    await page.goto('/ui/#/services/upper');
    await page.getByLabel('Input text').fill('hello from the browser');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByTestId('invoke-output').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('invoke-output').textContent(), 'HELLO FROM THE BROWSER');
    await session.screenshot('07-invoke');
  });

  await t.test('a failed job is a dead letter that can be re-driven', async () => {
    const created = await server.api('/system/services', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'broken', image: 'busybox', script: 'echo "about to fail"\nexit 3\n' }),
    });
    assert.equal(created.status, 201);
    const queued = await server.api('/job/broken', { method: 'POST', body: 'x' });
    const { job_id: jobId } = (await queued.json()) as { job_id: string };
    await waitFor(async () => {
      const job = (await (await server.api(`/system/jobs/broken/${jobId}`)).json()) as { status: string };
      return job.status === 'Failed' ? true : undefined;
    });
    await page.getByRole('link', { name: 'Dead letters' }).click();
    const row = page.locator(`tr[data-job="${jobId}"]`);
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /JOB_FAILED/);
    assert.equal(await row.locator('td.num').textContent(), '3');
    await session.screenshot('08-dead-letters');
    await row.getByRole('button', { name: `Re-drive ${jobId}` }).click();
    await page.getByText(`Re-driven: ${jobId}`).waitFor();
    // Re-driven: it runs again (attempts start over) and fails again with the same exit code.
    const again = await waitFor(async () => {
      const job = (await (await server.api(`/system/jobs/broken/${jobId}`)).json()) as {
        status: string;
        attempts: number;
        finish_time: string | null;
      };
      return job.status === 'Failed' && job.finish_time !== null ? job : undefined;
    });
    assert.equal(again.attempts, 1);
    await page.locator(`tr[data-job="${jobId}"]`).waitFor();
  });

  await t.test('MapReduce jobs show their progress and their tasks', async () => {
    const wordCount = Buffer.from(
      'export function map(chunk, emit) { for (const w of chunk.toString().split(/\\s+/)) if (w) emit(w, 1); }\n' +
        'export function reduce(word, counts, emit) { let n = 0; for (const c of counts) n += c; emit(word, n); }\n',
    ).toString('base64');
    const s3 = await s3For(server);
    await putText(s3, 'upper', 'corpus/book.txt', 'b a\nc a b\na\n'.repeat(200));
    const submitted = await server.api('/system/mapreduce/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        input: 'upper/corpus/book.txt',
        output: 'upper/counts',
        mapper: { file_name: 'wc.mjs', content: wordCount },
        reducer: { file_name: 'wc.mjs', content: wordCount },
        reducers: 2,
      }),
    });
    const answer = await submitted.text();
    assert.equal(submitted.status, 201, answer);
    const { id } = JSON.parse(answer) as { id: string };
    await page.getByRole('link', { name: 'MapReduce' }).click();
    const row = page.locator(`tr[data-mapreduce="${id}"]`);
    await row.waitFor();
    await row.getByText('succeeded').waitFor();
    assert.equal(await row.getByLabel(/Reduce tasks of/).getAttribute('value'), '2');
    await row.getByRole('link').click();
    await page.getByTestId('mapreduce-state').getByText('succeeded').waitFor();
    const tasks = page.locator('tr[data-task]');
    assert.ok((await tasks.count()) >= 3, 'at least one map task and two reduce tasks');
    await page.getByText('partition 1').waitFor();
    await page
      .getByRole('button', { name: /Log of task/ })
      .first()
      .click();
    await page.getByRole('heading', { name: /^Log of / }).waitFor();
    await session.screenshot('09-mapreduce');
  });

  await t.test('the jobs view pages through 10,000 jobs from the server, 70 rows at a time', async () => {
    const created = await server.api('/system/services', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'history', image: 'busybox', script: 'true\n' }),
    });
    assert.equal(created.status, 201);
    // Ten thousand finished jobs of the last hour, written straight into the server's state store as a
    // fixture (running that many scripts would take minutes and test nothing more of the page).
    const db = new Database(join(server.dataDir, 'nubes.db'));
    db.pragma('busy_timeout = 10000');
    const insert = db.prepare(
      `INSERT INTO jobs (id, service, kind, status, event, attempts, max_attempts, run_after, exit_code,
         created_at, started_at, finished_at, seq)
       VALUES (?, 'history', 'http', ?, '', 1, 3, ?, ?, ?, ?, ?, ?)`,
    );
    const now = Date.now();
    db.transaction(() => {
      for (let i = 0; i < 10_000; i++) {
        const createdMs = now - 3_600_000 + i * 360;
        const failed = i % 50 === 0;
        insert.run(
          `history-${String(i).padStart(5, '0')}`,
          failed ? 'failed' : 'succeeded',
          createdMs,
          failed ? 1 : 0,
          createdMs,
          createdMs + 10,
          createdMs + 10 + (i % 7) * 100,
          1_000_000 + i,
        );
      }
    })();
    db.close();
    await page.goto('/ui/#/services/history');
    await page.getByText('Page 1 of 143 (10000 jobs)').waitFor();
    assert.equal(await page.locator('tr[data-job]').count(), 70);
    assert.equal(await page.locator('tr[data-job]').first().getAttribute('data-job'), 'history-09999');
    await page.getByRole('button', { name: 'Older' }).click();
    await page.getByText('Page 2 of 143 (10000 jobs)').waitFor();
    assert.equal(await page.locator('tr[data-job]').first().getAttribute('data-job'), 'history-09929');
    await page.getByLabel('Status').selectOption('Failed');
    await page.getByText('Page 1 of 3 (200 jobs)').waitFor();
    assert.equal(await page.locator('tr[data-job] .status-failed').count(), 70);
    await page.getByRole('img', { name: /Jobs finished per minute: \d+ succeeded, \d+ failed/ }).waitFor();
    await session.screenshot('10-ten-thousand-jobs');
  });

  await t.test('the API reference lists the routes', async () => {
    await page.getByRole('link', { name: 'API' }).click();
    await page.getByRole('heading', { name: /Nubes REST API/ }).waitFor();
    await page.getByText('Create a service', { exact: true }).waitFor();
    await page.getByLabel('Filter').fill('metrics');
    await page.getByText('Prometheus metrics').waitFor();
    assert.equal(await page.getByText('Create a service', { exact: true }).count(), 0);
  });

  await t.test('a phone-sized screen shows the same pages without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [name, path] of [
      ['11-phone-services', '/ui/#/services'],
      ['12-phone-service', '/ui/#/services/upper'],
      ['13-phone-bucket', '/ui/#/buckets/upper/out/'],
      ['14-phone-mapreduce', '/ui/#/mapreduce'],
    ] as const) {
      await page.goto(path);
      await page.locator('main h1').waitFor();
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px`);
      await session.screenshot(name);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test("a user's personal token logs in and shows that user's services only", async () => {
    const user = await server.api('/system/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ada' }),
    });
    assert.equal(user.status, 201, await user.text());
    const tokenAnswer = await server.api('/system/users/ada/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'dashboard' }),
    });
    const { token } = (await tokenAnswer.json()) as { token: string };
    const created = await fetch(`${server.apiUrl}/system/services`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'ada-notes', image: 'busybox', script: 'cat "$INPUT_FILE_PATH"\n' }),
    });
    assert.equal(created.status, 201, await created.text());

    await page.goto('/ui/#/services');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Token').check();
    await page.getByLabel('Token', { exact: true }).last().fill(token);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('link', { name: 'ada-notes' }).waitFor();
    assert.equal(await page.locator('header .who').textContent(), 'ada');
    // A user's MapReduce page lists their own jobs only: none of the administrator's.
    await page.getByRole('link', { name: 'MapReduce' }).click();
    await page.getByText('No MapReduce jobs yet').waitFor();
    assert.equal(await page.locator('tr[data-mapreduce]').count(), 0);
    await page.goto('/ui/#/services');
    assert.equal(await page.getByRole('link', { name: 'upper' }).count(), 0);
    await page.getByRole('link', { name: 'ada-notes' }).click();
    await page.getByLabel('Input text').fill('from ada');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByTestId('invoke-output').getByText('from ada').waitFor({ timeout: 30_000 });
    await session.screenshot('15-user-token');
  });

  await t.test('no console errors during the whole run', () => {
    assert.deepEqual(session.errors, []);
  });
});
