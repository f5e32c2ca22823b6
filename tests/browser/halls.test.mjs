// A day at the service hall through the pages (SPEC C4), in Debian's headless Chromium driven by playwright-core:
// a citizen takes a ticket at the kiosk page naming himself, the display board shows the queue, a window clerk
// calls the next ticket, the board shows the call live (server-sent events), the clerk takes and accepts an
// application for that applicant at the window, and the case counts exactly one real trip (到现场次数).
//
// The tests run in order and share the ticket and the case. Harness and environment: see harness.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, PHONE, startTongban } from './harness.mjs';

const PASSWORD = 'tongban-demo';
const CITIZEN_ID = '990102198803150031'; // 张伟
const BIRTH_CERT_NAME = '出生医学证明首次签发';
const BIRTH_CERT_CODE = '11990100004213675N2000101000000';

let browser;
let base;
let stopTongban;
const contexts = [];
const pageErrors = [];
let ticketNumber;
let board; // the display board page, kept open to watch it update
let clerk; // the clerk's page
let caseId;

before(async () => {
  ({ base, browser, stop: stopTongban } = await startTongban('tongban-browser-halls-'));
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await stopTongban?.();
});

async function newPage(name, options = {}) {
  const context = await browser.newContext({ locale: 'zh-CN', ...options });
  context.setDefaultTimeout(15_000);
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${name}: ${e}`));
  return page;
}

async function noHorizontalOverflow(page, what) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.equal(innerWidth, PHONE.width, `${what}: the layout viewport is the phone's width`);
  assert.ok(scrollWidth <= PHONE.width + 1, `${what}: no horizontal overflow (scrollWidth ${scrollWidth})`);
}

test('a citizen takes a ticket at the kiosk page, naming himself', async () => {
  const page = await newPage('kiosk', { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await page.goto(`${base}/halls/city-centre/kiosk`);
  await noHorizontalOverflow(page, 'kiosk');
  const form = page.locator('form#take-ticket');
  await form.locator('select#skill').selectOption('personal');
  await form.locator('input#applicant').fill(CITIZEN_ID);
  await Promise.all([page.waitForURL(/\/tickets\/[0-9a-f-]{36}$/), form.locator('button#take').click()]);
  ticketNumber = (await page.locator('#ticket-number').textContent()).trim();
  assert.match(ticketNumber, /^A\d{3}$/, 'a walk-in ticket number');
  assert.equal(await page.locator('#ahead strong').textContent(), '0', 'nobody ahead');
  assert.doesNotMatch(await page.locator('#ticket').innerText(), new RegExp(CITIZEN_ID), 'the ID number is masked');
  await page.screenshot({ path: join(ARTIFACTS, 'hall-ticket-phone.png'), fullPage: true });
  await noHorizontalOverflow(page, 'ticket');
});

test('the display board shows the queue before anyone is called', async () => {
  board = await newPage('board');
  await board.goto(`${base}/halls/city-centre/board`);
  assert.equal(await board.locator('#board-waiting').textContent(), '1');
  assert.equal(await board.locator(`#board-rows tr[data-number="${ticketNumber}"]`).count(), 0);
});

test('a window clerk calls the next ticket and the board shows it live', async () => {
  clerk = await newPage('clerk');
  await clerk.goto(`${base}/login?next=${encodeURIComponent('/windows/city-centre-a01')}`);
  await clerk.locator('form#login input#account').fill('clerk');
  await clerk.locator('form#login input#password').fill(PASSWORD);
  await Promise.all([clerk.waitForURL((u) => u.pathname === '/windows/city-centre-a01'), clerk.locator('form#login button[type=submit]').click()]);
  await Promise.all([clerk.waitForURL((u) => u.pathname === '/windows/city-centre-a01'), clerk.locator('button#call-next').click()]);
  assert.equal((await clerk.locator('#current-number').textContent()).trim(), ticketNumber);
  assert.equal(await clerk.locator('#current-applicant').textContent(), CITIZEN_ID, 'the clerk sees the applicant');
  // The board was not reloaded: the call arrives through the event stream.
  const row = board.locator(`#board-rows tr[data-number="${ticketNumber}"]`);
  await row.waitFor({ timeout: 10_000 });
  assert.match(await row.innerText(), /A01/);
  assert.equal(await board.locator('#board-waiting').textContent(), '0');
  await board.screenshot({ path: join(ARTIFACTS, 'hall-board.png'), fullPage: true });
});

test('the clerk accepts an application for that applicant and the case counts one trip', async () => {
  const form = clerk.locator('form#apply-for');
  await form.locator('select#apply-item').selectOption({ label: BIRTH_CERT_NAME });
  await Promise.all([clerk.waitForURL((u) => u.pathname === `/apply/${BIRTH_CERT_CODE}`), form.locator('button[type=submit]').click()]);
  assert.equal(new URL(clerk.url()).searchParams.get('for'), CITIZEN_ID);
  await clerk.locator('form#apply-questions input[name=entrusted][value=parent]').check();
  await clerk.locator('form#apply-questions input[name=father_known][value=no]').check();
  await Promise.all([clerk.waitForURL((u) => u.searchParams.get('father_known') === 'no'), clerk.locator('form#apply-questions button[type=submit]').click()]);
  const apply = clerk.locator('form#apply');
  assert.equal(await apply.locator('input#applicant_id').inputValue(), CITIZEN_ID, 'the applicant is carried over');
  await apply.locator('input#applicant_name').fill('张伟');
  await apply.locator('input[name="field.child_name"]').fill('张小禾');
  await apply.locator('select[name="field.child_sex"]').selectOption('女');
  await apply.locator('input[name="field.child_birth_date"]').fill('2026-03-02');
  await apply.locator('input[name="field.child_birth_place"]').fill('示范市人民医院');
  await apply.locator('input[name="field.child_weight_grams"]').fill('3100');
  await apply.locator('input[name="field.mother_name"]').fill('王芳');
  await apply.locator('input[name="field.mother_id_number"]').fill('990102199006200045');
  await apply.locator('input[name="field.applicant_phone"]').fill('13900000001');
  for (const box of await apply.locator('input[type=checkbox][name^="paper."]').all()) await box.check();
  await Promise.all([clerk.waitForURL(/\/cases\/[0-9a-f-]{36}$/), apply.locator('button#submit-application').click()]);
  caseId = new URL(clerk.url()).pathname.split('/').pop();
  const accept = clerk.locator('form#action-accept');
  assert.ok(await accept.isVisible(), 'the accept form is offered');
  await Promise.all([clerk.waitForLoadState('load'), clerk.waitForURL(/\/cases\//), accept.locator('button[type=submit]').click()]);
  assert.match(await clerk.locator('#case-status').textContent(), /受理|办理/);
  assert.equal((await clerk.locator('#case-trips').textContent()).trim(), '1', 'the case page shows one real trip');
  const seen = await clerk.evaluate(async (id) => (await fetch(`/api/v1/cases/${id}`)).json(), caseId);
  assert.equal(seen.trips, 1, 'the API counts the one visit');
  const trips = await clerk.evaluate(async (code) => (await fetch(`/api/v1/items/${code}/trips`)).json(), BIRTH_CERT_CODE);
  assert.deepEqual(trips.distribution, [[1, 1]]);
});

test('no page had a JavaScript error', () => {
  assert.deepEqual(pageErrors, []);
});
