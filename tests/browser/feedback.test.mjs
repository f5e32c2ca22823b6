// Ratings (好差评, SPEC C6) and the 12345 hotline loop (SPEC C7) through the real forms, in Debian's headless
// Chromium driven by playwright-core.
// (a) The hotline loop on /hotline/new and /hotline/tickets/{number}: the operator registers a complaint, the
//     dispatcher dispatches it to 城市管理局, the department's handler replies (on a phone), the operator records an
//     unhappy callback and the ticket reopens, the handler replies again, a happy callback closes it.
// (b) A citizen rates a finished case 不满意 on /cases/{number}/rate; the responsible office finds the task on
//     /rectifications and rectifies it; the supervisor records the callback and the task closes; the citizen may
//     then rate a second time; the public /ratings page (on a phone) shows the rating and the rectification rate.
// The case of (b) is set up through the API; every step under test goes through the pages.
// Harness and environment: see harness.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, PHONE, apiClient, assertNoHorizontalOverflow, signInTo, startTongban } from './harness.mjs';

const BIRTH_CERT_CODE = '11990100004213675N2000101000000'; // 出生医学证明首次签发 (city-health)
const ZHANG_WEI = '990102198803150031'; // account "citizen"
const WANG_FANG = '990102199006200045';

let browser;
let base;
let stopTongban;
let client;
const contexts = [];
const pageErrors = [];

before(async () => {
  ({ base, browser, stop: stopTongban } = await startTongban('tongban-browser-feedback-'));
  client = apiClient(base);
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

const phone = { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

/** Submits a form and waits for the page it lands on (every form here posts and redirects). */
async function submit(page, form) {
  await Promise.all([page.waitForNavigation(), form.locator('button[type=submit]').click()]);
}

async function text(page, selector) {
  return (await page.locator(selector).innerText()).trim();
}

async function ticketState(page) {
  return page.locator('#ticket-state').getAttribute('data-state');
}

// ------------------------------------------------------------------------------------------------
// (a) the hotline loop

test('a hotline ticket goes from intake to dispatch, reply, unhappy callback, reopening and a happy close', async () => {
  const operator = await newPage('operator');
  await signInTo(operator, base, 'operator', '/hotline/new');
  const intake = operator.locator('form#intake-form');
  await intake.locator('select[name=kind]').selectOption('complaint');
  await intake.locator('select[name=category]').selectOption('city-management');
  await intake.locator('select[name=area]').selectOption('990102');
  await intake.locator('input[name=location]').fill('湖滨路与湖心路交叉口');
  await intake.locator('input[name=caller_name]').fill('王先生');
  await intake.locator('input[name=caller_phone]').fill('13900000000');
  await intake.locator('textarea[name=description]').fill('湖滨路垃圾多日无人清运,气味很大');
  await Promise.all([
    operator.waitForURL((u) => u.pathname.startsWith('/hotline/tickets/RX')),
    intake.locator('button[type=submit]').click(),
  ]);
  const number = new URL(operator.url()).pathname.split('/').pop();
  assert.match(number, /^RX\d{12}$/);
  assert.match(await text(operator, '#notice'), new RegExp(`已登记,工单号 ${number}`));
  assert.equal(await ticketState(operator), 'registered');
  assert.equal(await text(operator, '#ticket-state'), '已受理');
  assert.equal(await operator.locator('form#act-call_back').count(), 0, 'nothing to call back yet');
  const ticketPath = `/hotline/tickets/${number}`;

  // The dispatcher dispatches it to the city management bureau (the routing suggestion is preselected).
  const dispatcher = await newPage('dispatcher');
  await signInTo(dispatcher, base, 'dispatcher', ticketPath);
  const dispatch = dispatcher.locator('form#act-dispatch');
  assert.equal(await dispatch.locator('select[name=department]').inputValue(), 'city-urban', 'routing suggests 城市管理局');
  await submit(dispatcher, dispatch);
  assert.equal(await text(dispatcher, '#notice'), '已保存。');
  assert.equal(await ticketState(dispatcher), 'dispatched');
  assert.match(await text(dispatcher, '#ticket-department'), /示范市城市管理局/);
  assert.match(await text(dispatcher, '#ticket-due'), /^\d{4}-\d{2}-\d{2}$/);
  assert.equal(await dispatcher.locator('form#act-dispatch').count(), 0, 'dispatched once');

  // The department's handler replies, on a phone; the confidential caller is not hidden here (not confidential).
  const handler = await newPage('handler', phone);
  await signInTo(handler, base, 'handler', ticketPath);
  await assertNoHorizontalOverflow(handler, 'the ticket page on a phone');
  const reply = handler.locator('form#act-reply');
  await reply.locator('textarea[name=text]').fill('已安排清运,路段已清理完毕');
  await submit(handler, reply);
  assert.equal(await ticketState(handler), 'replied');
  assert.equal(await text(handler, '#ticket-reply'), '已安排清运,路段已清理完毕');
  assert.equal(await handler.locator('form#act-reply').count(), 0, 'replied: no reply form until it reopens');

  // An unhappy callback reopens it for the department.
  await operator.goto(`${base}${ticketPath}`);
  assert.equal(await ticketState(operator), 'replied');
  const unhappy = operator.locator('form#act-call_back');
  await unhappy.locator('input[name=satisfaction][value=dissatisfied]').check();
  await unhappy.locator('input[name=resolved]').uncheck();
  await unhappy.locator('input[name=text]').fill('第二天又堆满了');
  await submit(operator, unhappy);
  assert.equal(await ticketState(operator), 'dispatched', 'reopened with the department');
  assert.match(await text(operator, '.status-line'), /重办 1/);
  assert.equal(await operator.locator('form#act-call_back').count(), 0);

  await handler.goto(`${base}${ticketPath}`);
  assert.equal(await ticketState(handler), 'dispatched');
  const again = handler.locator('form#act-reply');
  await again.locator('textarea[name=text]').fill('已清运并加装监控,每日巡查');
  await submit(handler, again);
  assert.equal(await ticketState(handler), 'replied');
  assert.equal(await text(handler, '#ticket-reply'), '已清运并加装监控,每日巡查');

  // A happy callback closes it.
  await operator.goto(`${base}${ticketPath}`);
  const happy = operator.locator('form#act-call_back');
  assert.ok(await happy.locator('input[name=satisfaction][value=satisfied]').isChecked(), '满意 is the default');
  assert.ok(await happy.locator('input[name=resolved]').isChecked());
  await submit(operator, happy);
  assert.equal(await ticketState(operator), 'closed');
  assert.equal(await text(operator, '#ticket-state'), '已办结');
  for (const form of ['act-call_back', 'act-reply', 'act-dispatch']) {
    assert.equal(await operator.locator(`form#${form}`).count(), 0, `closed: no ${form}`);
  }
  const history = await operator.locator('#ticket-history li').allInnerTexts();
  assert.ok(history.length >= 6, `the whole loop is in the history: ${history.join(' | ')}`);

  // The API agrees with what the pages showed.
  const ticket = await client.api('operator', 'GET', `/api/v1/hotline/tickets/${number}`);
  assert.equal(ticket.state, 'closed');
  assert.equal(ticket.reopened, 1);
  assert.equal(ticket.department, 'city-urban');
  await operator.screenshot({ path: join(ARTIFACTS, 'feedback-hotline-closed.png'), fullPage: true });
});

// ------------------------------------------------------------------------------------------------
// (b) a bad rating, its rectification and the public figures

/** A birth-certificate case of 张伟 decided (准予) by the staff through the API. */
async function decidedCase() {
  const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'utf8');
  const upload = (await client.api('citizen', 'POST', '/api/v1/uploads', pdf, 'application/pdf')).upload;
  const material = (code) => ({ code, provided_as: 'upload', upload, file_name: `${code}.pdf` });
  const act = (account, kase, action) =>
    client.api(account, 'POST', `/api/v1/cases/${kase.id}/actions`, { ...action, version: kase.version });
  let kase = await client.api('citizen', 'POST', '/api/v1/applications', {
    item: BIRTH_CERT_CODE,
    answers: { entrusted: 'parent', father_known: 'yes' },
    form: {
      child_name: '张子涵', child_sex: '女', child_birth_date: '2026-03-01', child_birth_place: '示范市妇幼保健院',
      child_weight_grams: '3250', mother_name: '王芳', mother_id_number: WANG_FANG, father_name: '张伟',
      father_id_number: ZHANG_WEI, applicant_phone: '13900000001',
    },
    materials: ['mother_id_card', 'father_id_card', 'birth_certificate_registration_form', 'delivery_record'].map(material),
    delivery: { method: 'post', recipient: '张伟', phone: '13900000001', address: '东湖区湖滨街道湖心社区湖心路1号' },
  });
  kase = await act('clerk', kase, { action: 'accept' });
  kase = await act('approver', kase, { action: 'approve', opinion: '同意' });
  kase = await act('approver', kase, { action: 'approve', opinion: '同意' });
  kase = await act('chief-health', kase, { action: 'decide', granted: true, opinion: '准予' });
  assert.equal(kase.state.code, 'granted');
  return kase;
}

test('a bad rating is rectified by the office, called back, and shown in the public figures', async () => {
  const kase = await decidedCase();
  const number = kase.number;

  // The citizen rates it 不满意 from the case page, on a phone.
  const citizen = await newPage('citizen', phone);
  await signInTo(citizen, base, 'citizen', `/cases/${kase.id}`);
  await Promise.all([citizen.waitForURL((u) => u.pathname === `/cases/${number}/rate`), citizen.locator('#rate-link').click()]);
  assert.equal(await text(citizen, '#rate-subject'), number);
  await assertNoHorizontalOverflow(citizen, 'the rating page on a phone');
  const form = citizen.locator('form#rate-form');
  assert.ok(await form.locator('input[name=level][value=satisfied]').isChecked(), '满意 is preselected');
  await form.locator('input[name=level][value=dissatisfied]').check();
  await form.locator('textarea[name=text]').fill('窗口没有一次性告知需要的材料');
  await Promise.all([citizen.waitForURL(/notice=rated/), form.locator('button[type=submit]').click()]);
  assert.equal(await text(citizen, '#notice'), '感谢您的评价。');
  const done = citizen.locator('.rating-done');
  assert.equal(await done.count(), 1);
  assert.equal(await done.getAttribute('data-level'), 'dissatisfied');
  assert.match(await done.innerText(), /不满意/);
  assert.match(await done.innerText(), /窗口没有一次性告知需要的材料/);
  assert.match(await done.innerText(), /已转交责任单位整改/);
  assert.equal(await citizen.locator('form#rate-form').count(), 0, 'no second rating while the office works on it');
  assert.match(await text(citizen, '#rate-note'), /整改并回访后/);

  // The responsible office (卫生健康委) finds the task and rectifies it.
  const office = await newPage('chief-health');
  await signInTo(office, base, 'chief-health', '/rectifications');
  const task = office.locator('li.task', { hasText: number });
  assert.equal(await task.count(), 1, 'the office sees the task');
  assert.equal(await task.getAttribute('data-state'), 'open');
  assert.match(await task.innerText(), /示范市卫生健康委员会/);
  assert.match(await task.innerText(), /待整改/);
  const taskId = (await task.getAttribute('id')).replace(/^task-/, '');
  const rectify = task.locator('form', { has: office.locator('input[name=action][value=rectify]') });
  await rectify.locator('textarea[name=measures]').fill('窗口增设材料清单,一次性告知');
  await submit(office, rectify);
  assert.equal(await text(office, '#notice'), '已保存。');
  const rectified = office.locator(`li#task-${taskId}`);
  assert.equal(await rectified.getAttribute('data-state'), 'rectified');
  assert.match(await rectified.innerText(), /整改措施:窗口增设材料清单,一次性告知/);
  assert.equal(await rectified.locator('form').count(), 0, 'the office has nothing more to do; the callback is the supervisor’s');

  // Another department's office does not see it.
  const otherOffice = await newPage('chief-police');
  await signInTo(otherOffice, base, 'chief-police', '/rectifications');
  assert.equal(await otherOffice.locator(`li#task-${taskId}`).count(), 0);

  // The supervisor records the callback: reached, the rater accepts; the task closes.
  const supervisor = await newPage('supervisor');
  await signInTo(supervisor, base, 'supervisor', '/rectifications?state=rectified');
  const waiting = supervisor.locator(`li#task-${taskId}`);
  assert.match(await waiting.innerText(), /待回访/);
  const callback = waiting.locator('form.callback');
  assert.ok(await callback.locator('input[name=reached]').isChecked());
  await callback.locator('textarea[name=note]').fill('电话回访,评价人认可整改');
  await submit(supervisor, callback);
  assert.equal(await text(supervisor, '#notice'), '已保存。');
  await supervisor.goto(`${base}/rectifications?state=closed`);
  const closed = supervisor.locator(`li#task-${taskId}`);
  assert.equal(await closed.getAttribute('data-state'), 'closed');
  assert.match(await closed.innerText(), /已办结/);
  const kinds = await closed.locator('ol li').evaluateAll((items) => items.map((li) => li.dataset.kind));
  assert.deepEqual(kinds, ['opened', 'rectified', 'called_back', 'closed']);

  // Settled: the citizen may rate a second time.
  await citizen.goto(`${base}/cases/${number}/rate`);
  assert.equal(await citizen.locator('form#rate-form').count(), 1, 'the second rating is open');

  // The public figures, on a phone and without signing in: 1 rating of 卫生健康委, bad, rectified (100%).
  const visitor = await newPage('visitor', phone);
  await visitor.goto(`${base}/ratings`);
  await assertNoHorizontalOverflow(visitor, 'the public ratings page on a phone');
  const row = visitor.locator('#rating-figures tbody tr', { hasText: '示范市卫生健康委员会' });
  assert.equal(await row.count(), 1, 'the department has a row');
  const cells = (await row.locator('td').allInnerTexts()).map((c) => c.trim());
  assert.deepEqual(cells, ['示范市卫生健康委员会', '1', '0.00%', '1', '100.00%']);
  await visitor.screenshot({ path: join(ARTIFACTS, 'feedback-ratings-phone.png'), fullPage: true });

  // The API says the same.
  const figures = await client.api('citizen', 'GET', '/api/v1/ratings/figures');
  const health = figures.rows.find((r) => r.key === 'city-health');
  assert.equal(health.counters.ratings, 1);
  assert.equal(health.counters.rectifications_closed, 1);
});

test('no page threw a script error', () => {
  assert.deepEqual(pageErrors, []);
});
