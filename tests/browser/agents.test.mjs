// Agents (帮办代办, SPEC C5) through the pages, in Debian's headless Chromium driven by playwright-core: a citizen
// grants a mandate to an agent on her phone, the agent applies for her from the agent's workbench, the case's
// timeline says "由代办员 郑芳 代 王芳 办理" to the agent and to the citizen, and an agent without a mandate is refused
// (nothing is stored). Then an elderly citizen asks for a home visit and a window clerk schedules an agent.
//
// The tests run in order and share the browsers. Harness and environment: see harness.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, PHONE, assertNoHorizontalOverflow, pdfFile, signInTo as signInAt, startTongban } from './harness.mjs';

const BIRTH_CERT_CODE = '11990100004213675N2000101000000';
const BIRTH_CERT_NAME = '出生医学证明首次签发';
const WANG_FANG = '990102199006200045'; // account "citizen2"
const BY_AGENT = '由代办员 郑芳 代 王芳 办理';

let browser;
let base;
let stopTongban;
const people = {};
const pageErrors = [];
let caseUrl;

before(async () => {
  ({ base, browser, stop: stopTongban } = await startTongban('tongban-browser-agents-'));
});

after(async () => {
  for (const { context } of Object.values(people)) await context.close().catch(() => {});
  await stopTongban?.();
});

async function person(account, options = {}) {
  if (people[account]) return people[account].page;
  const context = await browser.newContext({ locale: 'zh-CN', ...options });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${account}: ${e}`));
  people[account] = { context, page };
  return page;
}

async function signInTo(page, account, next) {
  await signInAt(page, base, account, next);
}

/** Answers the birth item's questions and fills in its form for 王芳 (the page must be /apply/{code}?for=…). */
async function fillBirthApplication(page) {
  await page.locator('form#apply-questions input[name=entrusted][value=parent]').check();
  await page.locator('form#apply-questions input[name=father_known][value=no]').check();
  await Promise.all([page.waitForURL((u) => u.searchParams.get('father_known') === 'no'), page.locator('form#apply-questions button[type=submit]').click()]);
  const form = page.locator('form#apply');
  assert.equal(await form.locator('input#applicant_id').inputValue(), WANG_FANG, 'the applicant is carried over');
  assert.equal(await form.locator('input#applicant_name').inputValue(), '王芳');
  assert.equal(await form.locator('input[type=checkbox][name^="paper."]').count(), 0, 'an agent checks no paper at a window');
  await form.locator('input[name="field.child_name"]').fill('王小满');
  await form.locator('select[name="field.child_sex"]').selectOption('女');
  await form.locator('input[name="field.child_birth_date"]').fill('2026-03-01');
  await form.locator('input[name="field.child_birth_place"]').fill('示范市妇幼保健院');
  await form.locator('input[name="field.child_weight_grams"]').fill('3200');
  await form.locator('input[name="field.mother_name"]').fill('王芳');
  await form.locator('input[name="field.mother_id_number"]').fill(WANG_FANG);
  await form.locator('input[name="field.applicant_phone"]').fill('13900000002');
  const needed = await form
    .locator('ol#apply-materials > li[data-need=required], ol#apply-materials > li[data-need=needed]')
    .evaluateAll((lis) => lis.map((li) => li.dataset.code));
  for (const code of needed) await form.locator(`input[type=file][name="file.${code}"]`).setInputFiles(pdfFile(code));
  return form;
}

test('a citizen grants a mandate to an agent on her phone', async () => {
  const page = await person('citizen2', { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await signInTo(page, 'citizen2', '/my/mandates');
  assert.equal(await page.locator('#no-mandates').count(), 1, 'no mandate yet');
  const form = page.locator('form#grant');
  await form.locator('select#agent').selectOption('agent');
  await form.locator('input[name=scope][value=listed]').check();
  await form.locator('#grant-items').evaluate((list) => list.closest('details').setAttribute('open', ''));
  await form.locator(`input[name="item.${BIRTH_CERT_CODE}"]`).check();
  await assertNoHorizontalOverflow(page, 'mandates');
  await page.screenshot({ path: join(ARTIFACTS, 'mandates-phone.png'), fullPage: true });
  await Promise.all([page.waitForURL((u) => u.searchParams.get('done') === 'granted'), form.locator('button#grant-submit').click()]);
  const granted = page.locator('#mandates li[data-agent=agent]');
  assert.equal(await granted.getAttribute('data-status'), 'active');
  assert.match(await granted.innerText(), /郑芳/);
  assert.match(await granted.innerText(), new RegExp(BIRTH_CERT_NAME));
});

test('the agent applies for her from the workbench and the timeline says by whom for whom', async () => {
  const page = await person('agent', { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await signInTo(page, 'agent', '/agent');
  assert.match(await page.locator('#registration').innerText(), /东湖区/);
  const principal = page.locator(`#principals li[data-principal="${WANG_FANG}"]`);
  assert.equal(await principal.count(), 1, '王芳 is among the principals');
  await assertNoHorizontalOverflow(page, 'agent workbench');
  await page.screenshot({ path: join(ARTIFACTS, 'agent-workbench-phone.png'), fullPage: true });
  const apply = principal.locator('form.apply-for');
  await apply.locator('select[name=item]').selectOption(BIRTH_CERT_CODE);
  await Promise.all([page.waitForURL((u) => u.pathname === `/apply/${BIRTH_CERT_CODE}`), apply.locator('button[type=submit]').click()]);
  const form = await fillBirthApplication(page);
  await Promise.all([page.waitForURL(/\/cases\/[0-9a-f-]{36}$/), form.locator('button#submit-application').click()]);
  caseUrl = page.url();
  assert.equal((await page.locator('#case-agent').textContent()).trim(), BY_AGENT);
  assert.match(await page.locator('#timeline').innerText(), new RegExp(BY_AGENT));
  assert.equal(await page.locator('#rate-link').count(), 0, 'the agent is not invited to rate');
  await assertNoHorizontalOverflow(page, 'case page of the agent');
});

test('the citizen sees her case and who applied for her', async () => {
  const page = await person('citizen2');
  await page.goto(`${base}/my/cases`);
  const cases = page.locator('#my-cases li');
  assert.equal(await cases.count(), 1);
  await Promise.all([page.waitForURL(caseUrl), cases.first().locator('a').click()]);
  const timeline = page.locator('#timeline');
  assert.match(await timeline.innerText(), new RegExp(BY_AGENT));
  assert.match(await timeline.innerText(), /代办员 郑芳/);
  await page.screenshot({ path: join(ARTIFACTS, 'case-by-agent-phone.png'), fullPage: true });
});

test('an agent without a mandate is refused and nothing is stored', async () => {
  const page = await person('agent2');
  const target = `/apply/${BIRTH_CERT_CODE}?for=${WANG_FANG}&name=${encodeURIComponent('王芳')}&kind=person`;
  await signInTo(page, 'agent2', target);
  const form = await fillBirthApplication(page);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/apply/${BIRTH_CERT_CODE}`),
    form.locator('button#submit-application').click(),
  ]);
  assert.equal(response.status(), 403);
  await page.waitForLoadState('load');
  assert.match(await page.locator('#problems').innerText(), /申请人未委托您代为办理/);
  assert.match(await page.locator('#problems').innerText(), /no_valid_mandate/);
  const citizen = await person('citizen2');
  await citizen.goto(`${base}/my/cases`);
  assert.equal(await citizen.locator('#my-cases li').count(), 1, 'still only the case the agent with a mandate made');
});

test('an elderly citizen asks for a home visit and a clerk sends an agent', async () => {
  const elder = await person('citizen3', { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await signInTo(elder, 'citizen3', '/my/mandates');
  const form = elder.locator('form#request-visit');
  await form.locator('select#visit-reason').selectOption('elderly');
  await form.locator('textarea#visit-needs').fill('申领老年人福利补贴,行动不便');
  await form.locator('input#visit-phone').fill('13900000003');
  const until = await form.locator('input#visit-from').inputValue();
  const later = new Date(`${until}T00:00:00Z`);
  later.setUTCDate(later.getUTCDate() + 7);
  await form.locator('input#visit-until').fill(later.toISOString().slice(0, 10));
  await assertNoHorizontalOverflow(elder, 'home-visit request');
  await Promise.all([elder.waitForURL((u) => u.searchParams.get('done') === 'visit'), form.locator('button[type=submit]').click()]);
  assert.equal(await elder.locator('#my-visits li[data-state=requested]').count(), 1);

  const clerk = await person('clerk');
  await signInTo(clerk, 'clerk', '/home-visits');
  const row = clerk.locator('#hall-visits li[data-state=requested]');
  assert.equal(await row.count(), 1, 'the city centre arranges it (the nearest hall with window staff)');
  const schedule = row.locator('form.schedule');
  await schedule.locator('select[name=agent]').selectOption('agent3');
  const day = new Date(`${until}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + 1);
  await schedule.locator('input[name=at]').fill(`${day.toISOString().slice(0, 10)}T10:00`);
  await Promise.all([clerk.waitForURL((u) => u.pathname === '/home-visits'), schedule.locator('button[type=submit]').click()]);
  assert.equal(await clerk.locator('#hall-visits li[data-state=scheduled]').count(), 1);
  assert.match(await clerk.locator('#hall-visits li[data-state=scheduled]').innerText(), /周敏/);
  await clerk.screenshot({ path: join(ARTIFACTS, 'home-visits.png'), fullPage: true });

  // The request itself shows the address to the hall's staff (the read is logged for her), in English too.
  await Promise.all([clerk.waitForURL(/\/home-visits\/[0-9a-f-]{36}$/), clerk.locator('#hall-visits li[data-state=scheduled] a').first().click()]);
  assert.equal((await clerk.locator('#visit-agent').textContent()).trim(), '周敏');
  assert.match(await clerk.locator('#visit-address').textContent(), /山前大街3号/);
  assert.equal(await clerk.locator('form#schedule').count(), 1, 'staff may send another agent');
  assert.equal(await clerk.locator('form#complete').count(), 0, 'only the agent sent records the outcome');
  const here = new URL(clerk.url()).pathname;
  await clerk.goto(`${base}/lang/en?next=${encodeURIComponent(here)}`);
  assert.match(await clerk.locator('h1').innerText(), /Home visit/);
  assert.match(await clerk.locator('#visit-state').innerText(), /Scheduled/);
  await elder.goto(`${base}/my/data-access`);
  assert.match(await elder.locator('main').innerText(), /上门服务/, 'the clerk\'s read is in her data-access log');
});

test('no page had a JavaScript error', () => {
  assert.deepEqual(pageErrors, []);
});
