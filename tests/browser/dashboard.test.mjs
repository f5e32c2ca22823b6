// The supervision dashboard (SPEC C8) in Debian's headless Chromium: an operator registers a 12345 ticket
// through the intake page, then the supervisor opens /dashboard and the four Chart.js charts (trend lines, bars
// by department, the rating distribution, the hotline loop) are drawn on canvases with the figures — the
// hotline loop shows the one registered ticket. On a phone-sized screen nothing overflows horizontally.
// Harness and environment: see harness.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, PHONE, startTongban } from './harness.mjs';

const PASSWORD = 'tongban-demo';
let browser;
let base;
let stopTongban;

before(async () => {
  ({ base, browser, stop: stopTongban } = await startTongban('tongban-browser-dashboard-'));
});

after(async () => {
  await stopTongban?.();
});

async function signIn(page, account, next) {
  await page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
  await page.locator('form#login input#account').fill(account);
  await page.locator('form#login input#password').fill(PASSWORD);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/login'),
    page.locator('form#login button[type=submit]').click(),
  ]);
}

test('an operator registers a ticket from the intake page', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, 'operator', '/hotline/new');
  const form = page.locator('form#intake-form');
  await form.locator('select[name="kind"]').selectOption('complaint');
  await form.locator('select[name="category"]').selectOption('city-management');
  await form.locator('textarea[name="description"]').fill('湖滨路垃圾多日无人清运');
  await Promise.all([
    page.waitForURL((u) => u.pathname.startsWith('/hotline/tickets/RX')),
    form.locator('button[type=submit]').click(),
  ]);
  assert.equal(await page.locator('#ticket-state').getAttribute('data-state'), 'registered');
  await context.close();
});

test('the supervisor sees the dashboard charts drawn with data, also on a phone', async () => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await signIn(page, 'supervisor', '/dashboard');
  assert.equal(new URL(page.url()).pathname, '/dashboard');
  await page.waitForSelector('body[data-charts-ready="true"]', { timeout: 15_000 });
  for (const id of ['chart-trend', 'chart-departments', 'chart-ratings', 'chart-hotline']) {
    const size = await page.locator(`canvas#${id}`).evaluate((c) => ({ w: c.width, h: c.height }));
    assert.ok(size.w > 0 && size.h > 0, `${id} is drawn: ${JSON.stringify(size)}`);
  }
  const charts = await page.evaluate(() => {
    const c = window.tongbanCharts;
    return {
      trendPoints: c.trend.data.datasets[0].data.length,
      ratingSlices: c.ratings.data.datasets[0].data.length,
      hotline: c.hotline.data.datasets[0].data,
      types: [c.trend.config.type, c.departments.config.type, c.ratings.config.type, c.hotline.config.type],
    };
  });
  assert.equal(charts.trendPoints, 12, 'twelve months on the trend line');
  assert.equal(charts.ratingSlices, 5, 'five rating levels');
  assert.equal(charts.hotline[0], 1, 'the registered ticket is in the hotline loop');
  assert.deepEqual(charts.types, ['line', 'bar', 'doughnut', 'bar']);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal overflow at 390 px (${overflow}px)`);
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});
