// End-to-end test of a case's whole life through the pages (SPEC C2, "Web pages"), in Debian's headless Chromium
// driven by playwright-core: a citizen applies online for 出生医学证明首次签发, a window clerk accepts it from the
// workbench, the approver approves twice, the health chief representative grants it, the clerk issues and hands
// out the result, and the citizen sees it delivered, prints the result and verifies its QR code.
//
// Every person has their own browser context (own cookies). The tests below run in order and share the case.
// The server is the real binary serving the demo city on a free loopback port with a throw-away data folder.
// Harness and environment: see harness.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, PHONE, startTongban } from './harness.mjs';

// The demo catalog's birth-certificate item (CATALOG.md) and the demo city's people (data/demo/city.toml).
const BIRTH_CERT_NAME = '出生医学证明首次签发';
const BIRTH_CERT_CODE = '11990100004213675N2000101000000';
const PASSWORD = 'tongban-demo';
const BIRTH_REGISTRATION_CODE = '11990100004213712W0700103000000'; // 出生登记(户口登记)
const CITIZEN_ID = '990102198803150031'; // 张伟, account "citizen"
const CITY_CENTRE = '示范市政务服务中心';

let browser;
let base; // e.g. http://127.0.0.1:40123

// What the tests pass on to each other.
let caseUrl; // absolute URL of the case page
let pickupCode; // what the applicant shows at the window to collect the result
const people = {}; // account → { context, page }
const pageErrors = []; // JavaScript errors on any page

let stopTongban;

before(async () => {
  ({ base, browser, stop: stopTongban } = await startTongban('tongban-browser-cases-'));
});

after(async () => {
  for (const { context } of Object.values(people)) await context.close().catch(() => {});
  await stopTongban?.();
});

/** A small but real PDF (the server recognises files by their first bytes). */
function pdf(name) {
  const body = `%PDF-1.4\n% ${name}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`;
  return { name: `${name}.pdf`, mimeType: 'application/pdf', buffer: Buffer.from(body, 'utf8') };
}

/** The browser of one person (own context, own cookies), kept across tests; script errors fail the run. */
async function person(account, options = {}) {
  if (people[account]) return people[account].page;
  const context = await browser.newContext({ locale: 'zh-CN', ...options });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${account}: ${e}`));
  people[account] = { context, page };
  return page;
}

/** Fills in the sign-in form the page is on and waits to leave it. */
async function signIn(page, account) {
  await page.locator('form#login input#account').fill(account);
  await page.locator('form#login input#password').fill(PASSWORD);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/login'),
    page.locator('form#login button[type=submit]').click(),
  ]);
}

/** Signs in at /login and lands on `next`. */
async function signInTo(page, account, next) {
  await page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
  await signIn(page, account);
  assert.equal(new URL(page.url()).pathname, new URL(next, base).pathname, `${account} lands on ${next}`);
}

async function statusText(page) {
  return (await page.locator('#case-status').textContent()).trim();
}

/** Submits one of the case page's action forms and waits for the page that follows. */
async function act(page, action) {
  const form = page.locator(`form#action-${action}`);
  assert.ok(await form.isVisible(), `the ${action} form is offered`);
  await Promise.all([page.waitForLoadState('load'), page.waitForURL(/\/cases\//), form.locator('button[type=submit]').click()]);
}

async function noHorizontalOverflow(page, what) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  // A phone widens its layout viewport to fit content that overflows, so compare with the phone's own width.
  assert.equal(innerWidth, PHONE.width, `${what}: the layout viewport is the phone's width`);
  assert.ok(scrollWidth <= PHONE.width + 1, `${what}: no horizontal overflow (scrollWidth ${scrollWidth} > ${PHONE.width})`);
}

test('a citizen applies online from the guide, is told every problem, then submits', async () => {
  const page = await person('citizen', { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  // The guide offers the online application; without a session it asks to sign in first.
  await page.goto(`${base}/items/${BIRTH_CERT_CODE}`);
  await page.locator('a#apply-online').click();
  await page.waitForURL((u) => u.pathname === '/login');
  assert.equal(new URL(page.url()).searchParams.get('next'), `/apply/${BIRTH_CERT_CODE}`);
  await signIn(page, 'citizen');
  assert.equal(new URL(page.url()).pathname, `/apply/${BIRTH_CERT_CODE}`);
  assert.match(await page.locator('header nav').innerText(), /张伟/, 'the header names who is signed in');
  assert.ok(await page.locator('header nav a[href="/my/cases"]').isVisible(), '我的办件 link in the header');

  // The situational questions come first; the form follows the answers.
  assert.equal(await page.locator('form#apply').count(), 0, 'no form before the questions are answered');
  await page.locator('form#apply-questions input[name=entrusted][value=parent]').check();
  await page.locator('form#apply-questions input[name=father_known][value=yes]').check();
  await Promise.all([page.waitForURL((u) => u.searchParams.get('father_known') === 'yes'), page.locator('form#apply-questions button[type=submit]').click()]);
  const form = page.locator('form#apply');
  assert.ok(await form.isVisible(), 'the application form is shown');
  assert.equal(await form.locator('input[name="field.child_birth_date"]').getAttribute('type'), 'date');
  assert.equal(await form.locator('input[name="field.applicant_phone"]').getAttribute('type'), 'tel');
  assert.equal(await form.locator('input[name="field.child_weight_grams"]').getAttribute('type'), 'number');
  assert.equal(await form.locator('select[name="field.child_sex"]').count(), 1, 'a choice element is a select');
  assert.equal(await form.locator('input[name="field.agent_name"]').count(), 0, 'no agent fields for a parent');

  await form.locator('input[name="field.child_name"]').fill('张小宝');
  await form.locator('select[name="field.child_sex"]').selectOption('男');
  await form.locator('input[name="field.child_birth_date"]').fill('2026-03-01');
  await form.locator('input[name="field.child_birth_place"]').fill('示范市妇幼保健院');
  await form.locator('input[name="field.child_weight_grams"]').fill('3350');
  await form.locator('input[name="field.mother_name"]').fill('王芳');
  // A wrong check character: the server must say so (and keep everything else).
  await form.locator('input[name="field.mother_id_number"]').fill('990102199006200046');
  await form.locator('input[name="field.father_name"]').fill('张伟');
  await form.locator('input[name="field.father_id_number"]').fill(CITIZEN_ID);
  await form.locator('input[name="field.applicant_phone"]').fill('13900000001');

  const required = await form.locator('ol#apply-materials > li[data-need=required], ol#apply-materials > li[data-need=needed]').evaluateAll((lis) => lis.map((li) => li.dataset.code));
  assert.ok(required.includes('mother_id_card') && required.includes('father_id_card'), `required materials listed: ${required}`);
  for (const code of required) {
    await form.locator(`input[type=file][name="file.${code}"]`).setInputFiles(pdf(code));
  }
  await form.locator('input[name=delivery][value=collect]').check();
  await form.locator('select#hall').selectOption({ label: CITY_CENTRE });
  await page.screenshot({ path: join(ARTIFACTS, 'apply-phone.png'), fullPage: true });
  await noHorizontalOverflow(page, 'apply page');

  await Promise.all([page.waitForLoadState('load'), form.locator('button#submit-application').click()]);
  assert.equal(new URL(page.url()).pathname, `/apply/${BIRTH_CERT_CODE}`, 'a refused application stays on the form');
  const problems = page.locator('#problems li');
  assert.ok((await problems.count()) >= 1, 'the problems are listed');
  assert.match(await page.locator('#problems').innerText(), /mother_id_number/, 'the wrong ID number is named');
  assert.equal(await page.locator('input[name="field.child_name"]').inputValue(), '张小宝', 'what was typed is kept');
  for (const code of required) {
    assert.equal(await page.locator(`input[type=hidden][name="uploaded.${code}"]`).count(), 1, `${code}: the stored file is kept`);
  }
  await page.screenshot({ path: join(ARTIFACTS, 'apply-problems-phone.png'), fullPage: true });

  await page.locator('input[name="field.mother_id_number"]').fill('990102199006200045');
  await Promise.all([page.waitForURL(/\/cases\/[0-9a-f-]{36}$/), page.locator('button#submit-application').click()]);
  caseUrl = page.url();
  assert.equal(await statusText(page), '已提交,等待受理');
  assert.match(await page.locator('#case-materials').innerText(), /mother_id_card\.pdf/);
  assert.match(await page.locator('dl.facts').first().innerText(), new RegExp(CITY_CENTRE));
  pickupCode = (await page.locator('#pickup-code').textContent()).trim();
  assert.match(pickupCode, /^\d{6}$/, 'the applicant sees the pickup code');

  // 我的办件 lists it with its public status.
  await page.locator('header nav a[href="/my/cases"]').click();
  await page.waitForURL((u) => u.pathname === '/my/cases');
  const entry = page.locator('ul#my-cases > li', { hasText: BIRTH_CERT_NAME });
  assert.equal(await entry.count(), 1, 'the case is in 我的办件');
  assert.match(await entry.innerText(), /已提交,等待受理/);
  assert.equal(new URL(await entry.locator('a').first().getAttribute('href'), base).href, caseUrl);
});

test('a window clerk finds the applicant on the workbench and asks for a correction', async () => {
  assert.ok(caseUrl, 'the application was submitted');
  // The clerk works without JavaScript: every form is a plain HTML form.
  const page = await person('clerk', { javaScriptEnabled: false });
  await signInTo(page, 'clerk', '/workbench');
  assert.ok(await page.locator('header nav a[href="/workbench"]').isVisible(), '工作台 link in the header');
  await page.locator('form#find-applicant input#applicant').fill(CITIZEN_ID);
  await Promise.all([page.waitForURL((u) => u.searchParams.get('applicant') === CITIZEN_ID), page.locator('form#find-applicant button').click()]);
  await page.screenshot({ path: join(ARTIFACTS, 'workbench.png'), fullPage: true });
  const found = page.locator('ul#applicant-cases > li', { hasText: BIRTH_CERT_NAME });
  assert.equal(await found.count(), 1, 'the citizen’s case is found');
  const again = found.locator(`a[href^="/apply/${BIRTH_CERT_CODE}?for=${CITIZEN_ID}"]`);
  assert.equal(await again.count(), 1, 'an "apply for them" link names the applicant');
  await Promise.all([page.waitForURL((u) => u.href === caseUrl), found.locator('a').first().click()]);

  assert.equal(await page.locator('form#action-withdraw').count(), 0, 'a clerk cannot withdraw for the applicant');
  assert.equal(await page.locator('#pickup-code').count(), 0, 'staff do not see the pickup code');
  await page.screenshot({ path: join(ARTIFACTS, 'case-clerk.png'), fullPage: true });

  // One notice lists every problem at once (一次性告知).
  await page.locator('details.action-more > summary', { hasText: '一次性告知补正' }).click();
  await page.locator('form#action-request_correction input[name="problem.mother_id_card"]').fill('证件照片模糊,请重新上传清晰的正反面');
  await act(page, 'request_correction');
  assert.equal(await statusText(page), '需补正材料');
  assert.match(await page.locator('#correction').innerText(), /母亲有效身份证件:证件照片模糊/);
});

test('the citizen reads the correction notice and hands in the material once', async () => {
  const page = people.citizen.page;
  await page.goto(caseUrl);
  assert.equal(await statusText(page), '需补正材料');
  assert.match(await page.locator('#correction').innerText(), /证件照片模糊/);
  assert.match(await page.locator('#timeline').innerText(), /请一次性补正以下 1 项材料/);
  await page.locator('form#action-resubmit input[type=file][name="file.mother_id_card"]').setInputFiles(pdf('mother_id_card-clear'));
  await act(page, 'resubmit');
  assert.equal(await statusText(page), '已提交,等待受理');
  assert.match(await page.locator('#case-materials').innerText(), /mother_id_card-clear\.pdf/);
});

test('the clerk accepts the corrected application', async () => {
  const page = people.clerk.page;
  await page.goto(caseUrl);
  await act(page, 'accept');
  assert.equal(await statusText(page), '办理中');
  assert.equal(await page.locator('#notice').getAttribute('data-kind'), 'ok');
  assert.match(await page.locator('#timeline').innerText(), /申请已受理/);
  assert.ok(await page.locator('#promised-due').isVisible(), 'the promised due date is shown once accepted');
});

test('the approver works the inbox: two approvals, and a stale form is refused with a clear message', async () => {
  const page = await person('approver');
  await signInTo(page, 'approver', '/inbox');
  const row = page.locator('ul#inbox > li', { hasText: BIRTH_CERT_NAME });
  assert.equal(await row.count(), 1, 'the case is in the inbox');
  assert.match(await row.getAttribute('data-warning'), /^(normal|yellow|red)$/, 'the row carries its warning colour');
  assert.match(await row.innerText(), /承办/, 'the current step is shown');
  await page.screenshot({ path: join(ARTIFACTS, 'inbox.png'), fullPage: true });
  await Promise.all([page.waitForURL((u) => u.href === caseUrl), row.locator('a').first().click()]);
  assert.equal((await page.locator('#case-step').textContent()).trim(), '承办');

  // A second tab on the same case: it will be out of date after the first approval.
  const stale = await people.approver.context.newPage();
  await stale.goto(caseUrl);

  await act(page, 'approve');
  assert.equal((await page.locator('#case-step').textContent()).trim(), '审核');

  await act(stale, 'approve');
  assert.equal(await stale.locator('#notice').getAttribute('data-kind'), 'stale', 'the stale version is refused');
  assert.match(await stale.locator('#notice').innerText(), /刷新/, 'the message asks to reload');
  assert.equal((await stale.locator('#case-step').textContent()).trim(), '审核', 'nothing moved');
  await stale.close();

  await page.reload();
  await act(page, 'approve');
  assert.equal((await page.locator('#case-step').textContent()).trim(), '批准');
  assert.equal(await page.locator('form#action-decide').count(), 0, 'the decision is the chief representative’s');
  assert.match(await page.locator('#timeline').innerText(), /材料齐全,符合条件,同意/, 'staff see opinions on the timeline');
});

test('the health chief representative grants it from the inbox', async () => {
  const page = await person('chief-health');
  await signInTo(page, 'chief-health', '/inbox');
  const row = page.locator('ul#inbox > li', { hasText: BIRTH_CERT_NAME });
  assert.equal(await row.count(), 1, 'the case is in the chief’s inbox');
  await Promise.all([page.waitForURL((u) => u.href === caseUrl), row.locator('a').first().click()]);
  await page.locator('form#action-decide input[name=granted][value=true]').check();
  await act(page, 'decide');
  assert.equal(await statusText(page), '已办结(准予),等待出件');
  assert.match(await page.locator('#decision').innerText(), /准予许可/);
});

test('the clerk issues the licence and hands it out against the applicant’s pickup code', async () => {
  const page = people.clerk.page;
  await page.goto(caseUrl);
  await act(page, 'issue');
  assert.ok(await page.locator('#licence').isVisible(), 'the licence is shown once issued');
  assert.equal(await page.locator('form#action-deliver').count(), 0, 'no hand-out without the code');
  // A wrong code is refused and changes nothing.
  const wrong = pickupCode === '000000' ? '000001' : '000000';
  await page.locator('form#action-collect input[name=pickup_code]').fill(wrong);
  await act(page, 'collect');
  assert.equal(await page.locator('#notice').getAttribute('data-kind'), 'error', 'a wrong code is refused');
  assert.equal(await statusText(page), '已出证,待领取或寄送');
  await page.locator('form#action-collect input[name=pickup_code]').fill(pickupCode);
  await act(page, 'collect');
  assert.equal(await statusText(page), '已送达');
  assert.equal(await page.locator('#actions').count(), 0, 'nothing is left to do');
});

test('the citizen sees the result delivered, prints it and its QR code verifies', async () => {
  const page = people.citizen.page;
  await page.goto(caseUrl);
  assert.equal(await statusText(page), '已送达');
  const timeline = await page.locator('#timeline').innerText();
  for (const words of ['申请已提交', '申请已受理', '审批通过,准予许可', '办理结果已出证', '办理结果已领取']) {
    assert.match(timeline, new RegExp(words), `the timeline says ${words}`);
  }
  assert.doesNotMatch(timeline, /材料齐全,符合条件,同意/, 'internal opinions stay internal');
  const licence = page.locator('#licence');
  assert.ok(await licence.isVisible(), 'the licence is on the case page');
  assert.match(await licence.innerText(), /出生医学证明/);
  await page.screenshot({ path: join(ARTIFACTS, 'case-phone.png'), fullPage: true });
  await page.screenshot({ path: join(ARTIFACTS, 'case-phone-top.png') });
  await noHorizontalOverflow(page, 'case page');

  await Promise.all([page.waitForURL(/\/licences\/.+\/print/), page.locator('a#print-licence').click()]);
  const printable = page.locator('article#printable');
  assert.ok(await printable.isVisible(), 'the printable result');
  assert.match(await printable.innerText(), /张伟/);
  const qr = page.locator('figure#qr svg');
  assert.equal(await qr.count(), 1, 'a QR code is embedded as SVG');
  const box = await qr.boundingBox();
  assert.ok(box.width >= 100 && box.height >= 100, `the QR code is large enough to scan (${box.width}×${box.height})`);
  const verifyLink = page.locator('figure#qr figcaption a');
  const verifyUrl = await verifyLink.getAttribute('href');
  assert.ok(verifyUrl.startsWith(`${base}/verify/`), `the QR code points at /verify/… (${verifyUrl})`);
  await page.screenshot({ path: join(ARTIFACTS, 'licence-print-phone.png'), fullPage: true });
  await noHorizontalOverflow(page, 'printable result');
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('header.top').isVisible(), false, 'the site header is not printed');
  await page.screenshot({ path: join(ARTIFACTS, 'licence-print-media.png'), fullPage: true });
  await page.emulateMedia({ media: 'screen' });

  // Anyone can verify, without signing in.
  const visitor = await browser.newContext({ locale: 'zh-CN' });
  try {
    const check = await visitor.newPage();
    const res = await check.goto(verifyUrl);
    assert.equal(res.status(), 200);
    assert.equal(await check.locator('#verification').getAttribute('data-valid'), 'true');
    assert.match(await check.locator('#verdict').innerText(), /真实有效/);
    assert.equal((await check.locator('#holder').textContent()).trim(), '张*', 'the holder is masked');
    const forged = verifyUrl.replace(/.$/, (c) => (c === 'Q' ? 'R' : 'Q'));
    const missing = await check.goto(forged);
    assert.ok([400, 404].includes(missing.status()), 'a forged identifier is not verified');
    assert.equal(await check.locator('#verification').getAttribute('data-valid'), 'false');
  } finally {
    await visitor.close();
  }
});

test('the citizen sees who looked at their data', async () => {
  const page = people.citizen.page;
  await page.goto(`${base}/my/data-access`);
  const log = page.locator('ul#access-log > li');
  assert.ok((await log.count()) >= 1, 'staff reads of the case are listed');
  assert.match(await page.locator('ul#access-log').innerText(), /陈静|李娜/, 'the clerk or the approver is named');
});

test('once-only: applying for 出生登记, the citizen may use the birth certificate they now hold', async () => {
  const page = people.citizen.page;
  const answers = 'settle_with=father&parents_household=both_local&parents_married=married&father_known=yes&householder=parent&entrusted=parent';
  await page.goto(`${base}/apply/${BIRTH_REGISTRATION_CODE}?${answers}`);
  const material = page.locator('ol#apply-materials > li[data-code=birth_medical_certificate]');
  assert.equal(await material.count(), 1, 'the birth certificate is asked for');
  const useLicence = material.locator('input[type=radio][value^="licence:"]');
  assert.equal(await useLicence.count(), 1, 'the licence held is offered instead of an upload (免提交)');
  assert.match(await material.innerText(), /出生医学证明/);
  // The mother's ID card that the clerk checked for the birth certificate stays verified for the police.
  const card = page.locator('ol#apply-materials > li[data-code=mother_id_card]');
  const checkedCopy = card.locator('input[type=radio][value^="verified:"]');
  assert.equal(await checkedCopy.count(), 1, 'the copy checked by the first office is offered (免提交)');
  assert.ok(await checkedCopy.isChecked(), 'and chosen: it is not asked again');
  assert.match(await card.innerText(), /已由示范市政务服务中心核验/);
});

test('a clerk applies at the window for the applicant, with paper materials checked', async () => {
  const page = people.clerk.page;
  await page.goto(`${base}/workbench?applicant=${CITIZEN_ID}`);
  const form = page.locator('form#apply-for');
  assert.equal(await form.locator('input[name=name]').inputValue(), '张伟', 'the name comes from the applicant’s cases');
  await form.locator('select[name=item]').selectOption({ label: BIRTH_CERT_NAME });
  await Promise.all([page.waitForURL((u) => u.pathname === `/apply/${BIRTH_CERT_CODE}`), form.locator('button[type=submit]').click()]);
  assert.equal(new URL(page.url()).searchParams.get('for'), CITIZEN_ID);
  await page.locator('form#apply-questions input[name=entrusted][value=parent]').check();
  await page.locator('form#apply-questions input[name=father_known][value=no]').check();
  await Promise.all([page.waitForURL((u) => u.searchParams.get('father_known') === 'no'), page.locator('form#apply-questions button[type=submit]').click()]);
  const apply = page.locator('form#apply');
  assert.equal(await apply.locator('input#applicant_id').inputValue(), CITIZEN_ID, 'the applicant is carried over');
  assert.equal(await apply.locator('input[name="field.father_name"]').count(), 0, 'no father fields when he is not registered');
  await apply.locator('input[name="field.child_name"]').fill('张小贝');
  await apply.locator('select[name="field.child_sex"]').selectOption('女');
  await apply.locator('input[name="field.child_birth_date"]').fill('2026-03-02');
  await apply.locator('input[name="field.child_birth_place"]').fill('示范市人民医院');
  await apply.locator('input[name="field.child_weight_grams"]').fill('3100');
  await apply.locator('input[name="field.mother_name"]').fill('王芳');
  await apply.locator('input[name="field.mother_id_number"]').fill('990102199006200045');
  await apply.locator('input[name="field.applicant_phone"]').fill('13900000001');
  for (const box of await apply.locator('input[type=checkbox][name^="paper."]').all()) await box.check();
  await Promise.all([page.waitForURL(/\/cases\/[0-9a-f-]{36}$/), apply.locator('button#submit-application').click()]);
  assert.equal(await statusText(page), '已提交,等待受理');
  assert.match(await page.locator('dl.facts').first().innerText(), /窗口申请/);
  assert.match(await page.locator('#case-materials').innerText(), /窗口核验纸质材料/);
});

test('no page had a JavaScript error', () => {
  assert.deepEqual(pageErrors, []);
});
