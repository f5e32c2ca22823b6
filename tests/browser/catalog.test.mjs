// End-to-end tests of the public catalog pages (SPEC §2 "Web pages": Chinese first, English available,
// usable on a phone) in Debian's headless Chromium, driven by playwright-core.
//
// The server is the real binary serving the demo city on a free loopback port with a throw-away data folder.
// Harness and environment: see harness.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, PHONE, startTongban } from './harness.mjs';

// The demo catalog's birth-certificate guide (CATALOG.md); the tests reach it by clicking, and check the URL.
const BIRTH_CERT_NAME = '出生医学证明首次签发';

let browser;
let base; // e.g. http://127.0.0.1:40123

let stopTongban;

before(async () => {
  ({ base, browser, stop: stopTongban } = await startTongban('tongban-browser-data-'));
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

async function htmlLang(page) {
  return page.locator('html').getAttribute('lang');
}

/** Follow the home page's theme link and the item list to the birth-certificate guide. */
async function gotoBirthCertificateGuide(page) {
  await page.goto(`${base}/`);
  await page.locator('ul#personal-themes a', { hasText: '生育收养' }).click();
  await page.waitForURL((u) => u.pathname === '/items' && u.searchParams.get('theme') === 'birth');
  await page.locator('ul#items a', { hasText: BIRTH_CERT_NAME }).click();
  await page.waitForURL((u) => /^\/items\/[^/]+$/.test(u.pathname));
}

/** [code, need] of every material in ol#materials, in page order. */
async function materials(page) {
  return page.locator('ol#materials > li[data-code]').evaluateAll((lis) =>
    lis.map((li) => [li.dataset.code, li.dataset.need]),
  );
}

async function answer(page, question, option) {
  const radio = page.locator(`form#questions input[type=radio][name="${question}"][value="${option}"]`);
  const arrived = page.waitForURL((u) => u.searchParams.get(question) === option);
  await radio.click(); // app.js submits the form on change
  await arrived;
  await page.waitForLoadState('domcontentloaded');
  assert.ok(await page.locator(`input[name="${question}"][value="${option}"]`).isChecked(), `${question}=${option} stays checked`);
}

test('home page opens in Chinese with the search box and the newborn bundle', async (t) => {
  const page = await open(t);
  const res = await page.goto(`${base}/`);
  assert.equal(res.status(), 200);
  assert.equal(await htmlLang(page), 'zh-CN');
  assert.ok(await page.locator('form.search input#q').isVisible(), 'search box visible');
  assert.ok(await page.locator('form.search button[type=submit]').isVisible(), 'search button visible');
  const bundle = page.locator('ul#bundles a', { hasText: '新生儿出生一件事' });
  assert.ok(await bundle.isVisible(), '新生儿出生一件事 card visible');
  assert.equal(await bundle.getAttribute('href'), '/bundles/newborn');
  assert.ok((await page.locator('ul#personal-themes a').count()) > 0, 'personal themes listed');
  assert.ok((await page.locator('ul#enterprise-themes a').count()) > 0, 'enterprise themes listed');
});

test('a citizen follows a theme to a guide', async (t) => {
  const page = await open(t);
  await gotoBirthCertificateGuide(page);
  assert.equal((await page.locator('h1').textContent()).trim(), BIRTH_CERT_NAME);
  assert.ok((await page.title()).startsWith(`${BIRTH_CERT_NAME} · `), 'the title names the guide');
  assert.ok(await page.locator('ol#materials').isVisible(), 'material list visible');
  assert.ok(await page.locator('form#questions').isVisible(), 'situational questions visible');
});

test('answering a situational question changes the material list', async (t) => {
  const page = await open(t);
  await gotoBirthCertificateGuide(page);
  const guidePath = new URL(page.url()).pathname;

  const initial = await materials(page);
  assert.ok(initial.length > 0, 'materials listed');
  assert.equal(await page.locator('#material-count').textContent(), String(initial.length));
  const poa = initial.find(([code]) => code === 'power_of_attorney');
  assert.ok(poa, 'before any answer the power of attorney is listed as conditional');
  assert.equal(poa[1], 'depends');

  await answer(page, 'entrusted', 'agent');
  assert.equal(new URL(page.url()).pathname, guidePath, 'still on the same guide');
  const asAgent = await materials(page);
  assert.notDeepEqual(asAgent, initial, 'the material list changed');
  assert.deepEqual(asAgent.find(([code]) => code === 'power_of_attorney'), ['power_of_attorney', 'needed']);
  assert.equal(await page.locator('#material-count').textContent(), String(asAgent.length));

  await answer(page, 'entrusted', 'parent');
  const asParent = await materials(page);
  assert.notDeepEqual(asParent, asAgent, 'the material list changed again');
  assert.equal(asParent.find(([code]) => code === 'power_of_attorney'), undefined, 'power of attorney gone');
  assert.ok(asParent.length < asAgent.length, 'a parent applying in person needs fewer materials');
  assert.equal(await page.locator('#material-count').textContent(), String(asParent.length));
});

test('without JavaScript the submit button applies the answer', async (t) => {
  const page = await open(t, { javaScriptEnabled: false });
  await gotoBirthCertificateGuide(page);
  await page.locator('input[name="entrusted"][value="agent"]').check();
  const arrived = page.waitForURL((u) => u.searchParams.get('entrusted') === 'agent');
  await page.locator('form#questions button[type=submit]').click();
  await arrived;
  const list = await materials(page);
  assert.deepEqual(list.find(([code]) => code === 'power_of_attorney'), ['power_of_attorney', 'needed']);
});

test('the guide page fits a phone screen', async (t) => {
  const page = await open(t, { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await gotoBirthCertificateGuide(page);
  await answer(page, 'entrusted', 'agent');

  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.equal(innerWidth, PHONE.width);
  assert.ok(scrollWidth <= innerWidth + 1, `no horizontal overflow (scrollWidth ${scrollWidth} > ${innerWidth})`);

  const nav = page.locator('header nav');
  assert.ok(await nav.isVisible(), 'nav visible');
  for (const link of await nav.locator('a').all()) {
    assert.ok(await link.isVisible(), `nav link ${await link.textContent()} visible`);
    const box = await link.boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= innerWidth + 1, `nav link ${await link.textContent()} inside the screen`);
  }

  await page.screenshot({ path: join(ARTIFACTS, 'guide-phone.png') });
  await page.screenshot({ path: join(ARTIFACTS, 'guide-phone-full.png'), fullPage: true });
  await page.locator('section.situations').screenshot({ path: join(ARTIFACTS, 'guide-phone-questions.png') });
  await page.locator('section:has(> ol#materials)').screenshot({ path: join(ARTIFACTS, 'guide-phone-materials.png') });
});

test('the English switch', async (t) => {
  const page = await open(t);
  await gotoBirthCertificateGuide(page);
  const guideUrl = page.url();
  assert.equal(await htmlLang(page), 'zh-CN');
  const english = page.locator('header nav a', { hasText: 'English' });
  assert.equal(await english.getAttribute('hreflang'), 'en');
  await english.click();
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.equal(new URL(page.url()).pathname, new URL(guideUrl).pathname, 'back on the same guide');
  assert.equal(await htmlLang(page), 'en');
  assert.match(await page.locator('header nav').innerText(), /Service guides/);
  assert.ok(await page.locator('header nav a', { hasText: '中文' }).isVisible(), 'switch back to Chinese offered');

  // The choice sticks (cookie) on the next page.
  await page.goto(`${base}/`);
  assert.equal(await htmlLang(page), 'en');
});

test('the newborn bundle page shows its reductions', async (t) => {
  const page = await open(t);
  const res = await page.goto(`${base}/bundles/newborn`);
  assert.equal(res.status(), 200);
  assert.equal((await page.locator('h1').textContent()).trim(), '新生儿出生一件事');
  const table = page.locator('table#reductions');
  assert.ok(await table.isVisible(), 'reductions table visible');
  const rows = await table.locator('tbody tr').evaluateAll((trs) =>
    trs.map((tr) => ({
      label: tr.querySelector('th')?.textContent.trim(),
      values: [...tr.querySelectorAll('td')].map((td) => td.textContent.trim()),
    })),
  );
  assert.ok(rows.length >= 4, `reductions has rows (${rows.length})`);
  for (const { label, values } of rows) {
    assert.ok(label, 'row labelled');
    assert.equal(values.length, 2, `${label}: before and after`);
    for (const v of values) assert.match(v, /^\d+(\.\d+)?$/, `${label}: ${v} is a number`);
    const [before, after] = values.map(Number);
    assert.ok(after <= before, `${label}: after (${after}) ≤ before (${before})`);
  }
});
