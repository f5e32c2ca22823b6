// End-to-end test of the delivery of results (SPEC C5) through the pages, in Debian's headless Chromium driven by
// playwright-core: the apply page says who pays the postage; a citizen's birth certificate to be posted is issued
// (set up through the API); a window clerk posts it from the case page with the carrier and the tracking number;
// the carrier's system reports pick-up, transit, delivery round and signature with its API token; the citizen sees
// the tracking timeline and the case delivered. A second result, to be collected, is handed out at another hall's
// workbench against the pickup code only — a wrong code changes nothing.
// Harness and environment: see harness.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, PHONE, apiClient, serverNow, startTongban } from './harness.mjs';

const PASSWORD = 'tongban-demo';
const BIRTH_CERT_CODE = '11990100004213675N2000101000000'; // 出生医学证明首次签发 (posted free)
const ZHANG_WEI = '990102198803150031'; // account "citizen"
const WANG_FANG = '990102199006200045';
const EMS = 'EA123456785CN';

let browser;
let base;
let stopTongban;
const contexts = [];
const pageErrors = [];
let posted; // the case to be posted
let collected; // the case to be collected
let carrierToken;
let client; // JSON API calls (harness.mjs)

before(async () => {
  ({ base, browser, stop: stopTongban } = await startTongban('tongban-browser-delivery-'));
  client = apiClient(base, PASSWORD);
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

async function signInTo(page, account, next) {
  await page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
  await page.locator('form#login input#account').fill(account);
  await page.locator('form#login input#password').fill(PASSWORD);
  await Promise.all([page.waitForURL((u) => u.pathname !== '/login'), page.locator('form#login button[type=submit]').click()]);
}

/** JSON API calls as a demo account, or with a given token (the carrier's). */
const api = (...args) => client.api(...args);
const request = (...args) => client.request(...args);
const act = (account, kase, action) => api(account, 'POST', `/api/v1/cases/${kase.id}/actions`, { ...action, version: kase.version });

/** A birth-certificate application by 张伟, delivered as asked, taken to 已出证 by the staff through the API. */
async function issuedCase(delivery) {
  const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'utf8');
  const upload = (await api('citizen', 'POST', '/api/v1/uploads', pdf, 'application/pdf')).upload;
  const material = (code) => ({ code, provided_as: 'upload', upload, file_name: `${code}.pdf` });
  let kase = await api('citizen', 'POST', '/api/v1/applications', {
    item: BIRTH_CERT_CODE,
    answers: { entrusted: 'parent', father_known: 'yes' },
    form: {
      child_name: '张子涵', child_sex: '女', child_birth_date: '2026-03-01', child_birth_place: '示范市妇幼保健院',
      child_weight_grams: '3250', mother_name: '王芳', mother_id_number: WANG_FANG, father_name: '张伟',
      father_id_number: ZHANG_WEI, applicant_phone: '13900000001',
    },
    materials: ['mother_id_card', 'father_id_card', 'birth_certificate_registration_form', 'delivery_record'].map(material),
    delivery,
  });
  kase = await act('clerk', kase, { action: 'accept' });
  kase = await act('approver', kase, { action: 'approve', opinion: '同意' });
  kase = await act('approver', kase, { action: 'approve', opinion: '同意' });
  kase = await act('chief-health', kase, { action: 'decide', granted: true, opinion: '准予' });
  kase = await act('clerk', kase, { action: 'issue' });
  assert.equal(kase.state.code, 'issued');
  return kase;
}

/** A report `minutesAgo` minutes before the server's now. */
function report(status, minutesAgo, place) {
  return { status, at: new Date(serverNow().getTime() - minutesAgo * 60_000).toISOString(), place };
}

test('the apply page says the result is posted free for this item', async () => {
  const page = await newPage('citizen-apply', { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await signInTo(page, 'citizen', `/apply/${BIRTH_CERT_CODE}?entrusted=parent&father_known=yes`);
  const postage = page.locator('form#apply #postage');
  assert.equal(await postage.getAttribute('data-postage'), 'free');
  assert.match(await postage.innerText(), /免费寄递/);
});

test('a clerk posts the issued result with its carrier and tracking number', async () => {
  posted = await issuedCase({ method: 'post', recipient: '张伟', phone: '13900000001', address: '东湖区湖滨街道湖心社区湖心路1号3单元502' });
  const page = await newPage('clerk', { javaScriptEnabled: false });
  await signInTo(page, 'clerk', `/cases/${posted.id}`);
  assert.match(await page.locator('#postage').innerText(), /免费寄递/);
  assert.equal(await page.locator('form#action-collect').count(), 0, 'a posted result is not handed out at the window');
  const form = page.locator('form#action-ship');
  assert.ok(await form.isVisible(), 'the clerk may post the result');
  // A wrong number is refused with the reason, and nothing is posted.
  await form.locator('select[name=carrier]').selectOption('ems');
  await form.locator('input[name=tracking_number]').fill('EA123456784CN');
  await Promise.all([page.waitForLoadState('load'), form.locator('button[type=submit]').click()]);
  assert.equal(await page.locator('#notice').getAttribute('data-kind'), 'error');
  assert.match(await page.locator('#notice').innerText(), /check digit/);
  assert.equal(await page.locator('#shipment').count(), 0);

  const again = page.locator('form#action-ship');
  await again.locator('select[name=carrier]').selectOption('ems');
  await again.locator('input[name=tracking_number]').fill(EMS);
  await Promise.all([page.waitForURL(/done=ship/), again.locator('button[type=submit]').click()]);
  assert.equal((await page.locator('#shipment-status').textContent()).trim(), '已交寄,待揽收');
  assert.equal((await page.locator('#tracking-number').textContent()).trim(), EMS);
  assert.equal(await page.locator('form#action-ship').count(), 0, 'posted once');
  await page.screenshot({ path: join(ARTIFACTS, 'delivery-clerk-shipped.png'), fullPage: true });
});

test('the carrier’s system reports the parcel’s way with its API token, once per report', async () => {
  const created = await api('admin', 'POST', '/api/v1/admin/api-tokens', { department: 'city-gov-service', name: 'EMS 政务专递接口' });
  carrierToken = created.token;
  const path = `/api/v1/shipments/ems/${EMS}/events`;
  const reports = [
    report('picked_up', 50, '示范市东湖区揽投部'),
    report('in_transit', 40, '示范市邮件处理中心'),
    report('out_for_delivery', 20, '东湖区湖滨揽投部'),
  ];
  for (const body of reports) {
    const reply = await request(carrierToken, 'POST', path, body);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.body.cases[0].recorded, true);
  }
  const backwards = await request(carrierToken, 'POST', path, report('picked_up', 10, '别处'));
  assert.equal(backwards.status, 409, `a parcel is picked up once: ${backwards.text}`);
  assert.equal(backwards.body.error.code, 'illegal_shipment_status');
  const duplicate = await request(carrierToken, 'POST', path, reports[2]);
  assert.equal(duplicate.status, 200, duplicate.text);
  assert.equal(duplicate.body.cases[0].recorded, false, 'a report sent twice is recorded once');

  // Meanwhile the citizen follows the parcel.
  const page = await newPage('citizen', { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await signInTo(page, 'citizen', `/cases/${posted.id}`);
  assert.equal((await page.locator('#shipment-status').textContent()).trim(), '派送中');
  assert.equal(await page.locator('ol#tracking > li').count(), 4, 'three reports and the posting');

  const signed = await request(carrierToken, 'POST', path, report('signed', 5, '东湖区湖心路1号'));
  assert.equal(signed.status, 200, signed.text);
  assert.equal(signed.body.cases[0].state, 'delivered');
});

test('the citizen sees the tracking timeline, the postage and the case delivered', async () => {
  const page = await newPage('citizen-after', { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await signInTo(page, 'citizen', `/cases/${posted.id}`);
  assert.equal((await page.locator('#case-status').textContent()).trim(), '已送达');
  assert.equal((await page.locator('#shipment-status').textContent()).trim(), '已签收');
  assert.equal(await page.locator('#shipment').getAttribute('data-status'), 'signed');
  const steps = await page.locator('ol#tracking > li').evaluateAll((lis) => lis.map((li) => li.dataset.status));
  assert.deepEqual(steps, ['signed', 'out_for_delivery', 'in_transit', 'picked_up', 'shipped'], 'newest first');
  assert.match(await page.locator('#tracking').innerText(), /示范市邮件处理中心/);
  assert.match(await page.locator('#postage').innerText(), /免费寄递/);
  const timeline = await page.locator('#timeline').innerText();
  for (const words of ['办理结果已交寄中国邮政EMS,运单号 EA123456785CN', '办理结果已签收(邮寄送达)']) {
    assert.ok(timeline.includes(words), `the timeline says ${words}`);
  }
  assert.equal(await page.locator('#actions').count(), 0, 'nothing is left to do');
  await page.screenshot({ path: join(ARTIFACTS, 'delivery-citizen-signed.png'), fullPage: true });
  const { scrollWidth } = await page.evaluate(() => ({ scrollWidth: document.scrollingElement.scrollWidth }));
  assert.ok(scrollWidth <= PHONE.width + 1, `no horizontal overflow (${scrollWidth})`);
});

test('another hall’s clerk hands out a result to collect against its pickup code only', async () => {
  collected = await issuedCase({ method: 'collect', hall: 'city-centre' });
  const own = await api('citizen', 'GET', `/api/v1/cases/${collected.id}`);
  const code = own.delivery.pickup_code;
  assert.match(code, /^\d{6}$/);
  const page = await newPage('clerk2', { javaScriptEnabled: false });
  await signInTo(page, 'clerk2', '/workbench');
  const form = page.locator('form#collect-with-code');
  await form.locator('input[name=number]').fill(collected.number);
  await form.locator('input[name=pickup_code]').fill(code === '000000' ? '000001' : '000000');
  await Promise.all([page.waitForLoadState('load'), form.locator('button[type=submit]').click()]);
  assert.equal(await page.locator('#notice').getAttribute('data-kind'), 'error', 'a wrong code is refused');
  assert.equal((await page.locator('#case-status').textContent()).trim(), '已出证,待领取或寄送');
  assert.equal(await page.locator('#pickup-code').count(), 0, 'staff never see the code');

  await page.goto(`${base}/workbench`);
  const retry = page.locator('form#collect-with-code');
  await retry.locator('input[name=number]').fill(collected.number);
  await retry.locator('input[name=pickup_code]').fill(code);
  await Promise.all([page.waitForURL(/done=collect/), retry.locator('button[type=submit]').click()]);
  assert.equal((await page.locator('#case-status').textContent()).trim(), '已送达');
  assert.match(await page.locator('#timeline').innerText(), /办理结果已领取/);
});

test('no page had a JavaScript error', () => {
  assert.deepEqual(pageErrors, []);
});
