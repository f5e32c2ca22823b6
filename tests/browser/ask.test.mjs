// End-to-end tests of the one-sentence assistant on the home page (SPEC C9, 一句话办事) in Debian's headless
// Chromium driven by playwright-core: a citizen types a sentence, answers appear as they type, and the top
// answer opens its guide; without JavaScript the same box submits to /ask and the page lists the answers.
//
// The server is the real binary serving the demo city on a free loopback port with a throw-away data folder.
// Harness and environment: see harness.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, PHONE, startTongban } from './harness.mjs';

let browser;
let base; // e.g. http://127.0.0.1:40123
let stopTongban;

before(async () => {
  ({ base, browser, stop: stopTongban } = await startTongban('tongban-browser-ask-'));
});

after(async () => {
  await stopTongban?.();
});

/** A fresh browser context (own cookies) and page; script errors on the page fail the test. */
async function open(t, options = {}) {
  const context = await browser.newContext({ locale: 'zh-CN', ...options });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  t.after(async () => {
    await context.close();
    assert.deepEqual(errors, [], 'JavaScript errors on the page');
  });
  return page;
}

test('typing a sentence on the home page shows answers and opens the top one', async (t) => {
  const page = await open(t);
  await page.goto(`${base}/`);
  const results = page.locator('ol#ask-results');
  assert.equal(await results.isVisible(), false, 'no answers before typing');
  // Typed key by key, as a person would: answers follow the text.
  await page.locator('form.search input#q').pressSequentially('车本丢了怎么补', { delay: 40 });
  const top = results.locator('li').first();
  await top.locator('a', { hasText: '机动车驾驶证补证' }).waitFor();
  assert.match(await top.locator('.why').textContent(), /车本/, 'says which words matched');
  assert.ok((await top.locator('.step').textContent()).length > 4, 'says what to do first');
  await page.screenshot({ path: join(ARTIFACTS, 'ask-home.png') });
  await top.locator('a').click();
  await page.waitForURL((u) => /^\/items\/[^/]+$/.test(u.pathname));
  assert.equal((await page.locator('h1').textContent()).trim(), '机动车驾驶证补证');
});

test('a life-event sentence puts the bundle first and opens it', async (t) => {
  const page = await open(t);
  await page.goto(`${base}/`);
  await page.locator('form.search input#q').fill('我们想在小区门口开一家面馆,要办哪些证');
  const top = page.locator('ol#ask-results li').first();
  await top.locator('a', { hasText: '开办餐饮店一件事' }).waitFor();
  assert.match(await top.locator('.kind').textContent(), /一件事/);
  await top.locator('a').click();
  await page.waitForURL((u) => u.pathname === '/bundles/restaurant');
});

test('without JavaScript the search box submits to the assistant page', async (t) => {
  const page = await open(t, { javaScriptEnabled: false });
  await page.goto(`${base}/`);
  await page.locator('form.search input#q').fill('想把老家的户籍迁过来');
  await page.locator('form.search button[type=submit]').click();
  await page.waitForURL((u) => u.pathname === '/ask');
  const first = page.locator('ol#answers li').first();
  assert.match(await first.textContent(), /户口迁移/);
  await first.locator('a').click();
  await page.waitForURL((u) => /^\/items\/[^/]+$/.test(u.pathname));
});

test('answers fit a phone screen', async (t) => {
  const page = await open(t, { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await page.goto(`${base}/`);
  await page.locator('form.search input#q').fill('退休以后公积金怎么取出来');
  await page.locator('ol#ask-results li').first().waitFor();
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.equal(innerWidth, PHONE.width);
  assert.ok(scrollWidth <= innerWidth, `no horizontal overflow (${scrollWidth} > ${innerWidth})`);
  await page.screenshot({ path: join(ARTIFACTS, 'ask-phone.png'), fullPage: true });
});
