// The shared harness of the browser tests: the real tongban binary serving the demo city on a free loopback
// port with a throw-away data folder, and Debian's headless Chromium driven by playwright-core.
// Environment:
//   TONGBAN_BIN      path of the tongban binary (default: ../../target/debug/tongban from this folder)
//   CHROMIUM_PATH    path of the Chromium binary (default: /usr/bin/chromium)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = resolve(here, process.env.TONGBAN_BIN ?? '../../target/debug/tongban');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const START_TIMEOUT_MS = 60_000;

/**
 * The servers' clock starts here (`serve --clock-start`) and runs on: deadlines then lie in years
 * the official calendar holds whatever the real date, and the pages show the same dates every run.
 * Monday 2026-06-01, 09:00 in Shanghai.
 */
export const CLOCK_START = '2026-06-01T01:00:00Z';
let clockStartedAt = Date.now();

/** The servers' current time (a `Date`): CLOCK_START plus the time since the last server started. */
export function serverNow() {
  return new Date(Date.parse(CLOCK_START) + (Date.now() - clockStartedAt));
}

export const ARTIFACTS = join(here, 'artifacts');
export const PHONE = { width: 390, height: 844 };

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/**
 * Starts `tongban serve --demo` and Chromium. Returns `{ base, browser, stop }`; `stop` closes the browser,
 * stops the server (SIGTERM, then SIGKILL after 5 s) and removes the data folder.
 */
export async function startTongban(dataPrefix) {
  assert.ok(existsSync(BIN), `tongban binary not found at ${BIN}: run \`cargo build -p tongban-cli\` or set TONGBAN_BIN`);
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
  await mkdir(ARTIFACTS, { recursive: true });
  const dataDir = await mkdtemp(join(tmpdir(), dataPrefix));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  clockStartedAt = Date.now();
  const server = spawn(BIN, ['serve', '--demo', '--data', dataDir, '--listen', `127.0.0.1:${port}`, '--clock-start', CLOCK_START], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let serverLog = '';
  const keep = (chunk) => {
    serverLog += chunk;
    if (serverLog.length > 20_000) serverLog = serverLog.slice(-20_000);
  };
  server.stdout.setEncoding('utf8').on('data', keep);
  server.stderr.setEncoding('utf8').on('data', keep);

  let browser;
  const stop = async () => {
    await browser?.close().catch(() => {});
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((ok) => server.once('exit', ok));
      server.kill('SIGTERM');
      const result = await Promise.race([exited.then(() => 'exited'), sleep(5_000).then(() => 'timeout')]);
      if (result === 'timeout') {
        server.kill('SIGKILL');
        await exited;
      }
    }
    await rm(dataDir, { recursive: true, force: true }).catch(() => {});
  };

  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let lastError;
    for (;;) {
      if (server.exitCode !== null || server.signalCode !== null) {
        throw new Error(`tongban exited early (code ${server.exitCode}, signal ${server.signalCode}):\n${serverLog}`);
      }
      if (Date.now() >= deadline) {
        throw new Error(`tongban did not answer ${base}/ within ${START_TIMEOUT_MS / 1000} s (${lastError}):\n${serverLog}`);
      }
      try {
        const res = await fetch(`${base}/`, { signal: AbortSignal.timeout(2_000) });
        if (res.ok) break;
        lastError = new Error(`HTTP ${res.status}`);
      } catch (e) {
        lastError = e;
      }
      await sleep(200);
    }
    // playwright-core refuses a --user-data-dir argument in launch(); it starts Chromium with a fresh temporary
    // profile of its own and deletes it on close. The network flags keep Chromium from calling out to Google's
    // services, which this machine's network refuses.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      timeout: START_TIMEOUT_MS,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { base, browser, stop };
}

/** A small but real PDF for a file input (the server recognises files by their first bytes). */
export function pdfFile(name) {
  const body = `%PDF-1.4\n% ${name}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`;
  return { name: `${name}.pdf`, mimeType: 'application/pdf', buffer: Buffer.from(body, 'utf8') };
}

/** Fails when a page laid out on a phone (PHONE) is wider than the phone. */
export async function assertNoHorizontalOverflow(page, what) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  // A phone widens its layout viewport to fit content that overflows, so compare with the phone's own width.
  assert.equal(innerWidth, PHONE.width, `${what}: the layout viewport is the phone's width`);
  assert.ok(scrollWidth <= PHONE.width + 1, `${what}: no horizontal overflow (scrollWidth ${scrollWidth})`);
}

/** Signs in at /login with the demo password and checks that it lands on `next`. */
export async function signInTo(page, base, account, next) {
  await page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
  await page.locator('form#login input#account').fill(account);
  await page.locator('form#login input#password').fill('tongban-demo');
  await Promise.all([page.waitForURL((u) => u.pathname !== '/login'), page.locator('form#login button[type=submit]').click()]);
  assert.equal(new URL(page.url()).pathname, new URL(next, base).pathname, `${account} lands on ${next}`);
}

/**
 * JSON API calls against `base`: `request(token, method, path, body, contentType)` answers `{ status, body, text }`
 * whatever the status; `api(account, method, path, body, contentType)` signs the demo account in once (bearer
 * token) and expects success. A body that is not JSON is sent as it is, with its content type.
 */
export function apiClient(base, password = 'tongban-demo') {
  const tokens = {};
  async function request(token, method, path, body, contentType = 'application/json') {
    const json = contentType === 'application/json';
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      body: body === undefined ? undefined : json ? JSON.stringify(body) : body,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, text };
  }
  async function api(account, method, path, body, contentType) {
    if (!tokens[account]) {
      const res = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ account, password }),
      });
      assert.equal(res.status, 200, `sign in as ${account}`);
      tokens[account] = (await res.json()).token;
    }
    const reply = await request(tokens[account], method, path, body, contentType);
    assert.ok(reply.status < 300, `${account} ${method} ${path}: ${reply.status} ${reply.text}`);
    return reply.body;
  }
  return { api, request };
}
