// End-to-end test of 新生儿出生一件事 through the pages (SPEC C3), in Debian's headless Chromium driven by
// playwright-core: a citizen on a phone goes from the home page to the bundle's guide, signs in, answers the
// situational questions, fills the one merged form (each element once), sees the birth certificate marked
// 免提交 (an earlier member of the same application produces it), uploads the rest once, chooses delivery by
// post and submits once. The departments' staff then move every child case to delivery through the API (the
// single-case pages have their own browser test), and the citizen sees the parent completed with every result
// delivered, and the departments' reads in the data-access log.
// Harness and environment: see harness.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, PHONE, apiClient, startTongban } from './harness.mjs';

const PASSWORD = 'tongban-demo';
const ZHANG_WEI = '990102198803150031'; // 张伟, account "citizen"

let browser;
let base;
let stopTongban;
let context;
let page;
let bundleCaseUrl;
let client; // JSON API calls (harness.mjs)
const pageErrors = [];

before(async () => {
  ({ base, browser, stop: stopTongban } = await startTongban('tongban-browser-bundles-'));
  client = apiClient(base, PASSWORD);
  context = await browser.newContext({ locale: 'zh-CN', viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  context.setDefaultTimeout(15_000);
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
});

after(async () => {
  await context?.close().catch(() => {});
  await stopTongban?.();
});

function pdf(name) {
  const body = `%PDF-1.4\n% ${name}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`;
  return { name: `${name}.pdf`, mimeType: 'application/pdf', buffer: Buffer.from(body, 'utf8') };
}

/** A value of the right kind for a data element (the merged form says the kind). */
function sample(kind) {
  switch (kind) {
    case 'id_number': return ZHANG_WEI;
    case 'date': return '2026-02-20';
    case 'phone': return '13800138000';
    case 'region_code': return '990102';
    case 'integer': return '3350';
    case 'money': return '1000.00';
    case 'area': return '80';
    case 'email': return 'zhang@example.cn';
    case 'postal_code': return '100000';
    case 'address': return '示范市东城区人民路1号';
    case 'boolean': return 'true';
    default: return '张子涵';
  }
}

async function noHorizontalOverflow(what) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.equal(innerWidth, PHONE.width, `${what}: the layout viewport is the phone's width`);
  assert.ok(scrollWidth <= PHONE.width + 1, `${what}: no horizontal overflow (scrollWidth ${scrollWidth})`);
}

/** JSON API calls as a staff member or the citizen (bearer token). */
const api = (...args) => client.api(...args);

/** The newborn bundle's departments: approvers and the chief representatives who decide. */
const CHIEF = {
  'city-health': 'chief-health',
  'city-police': 'chief-police',
  'city-medical-insurance': 'chief-medical-insurance',
  'city-hrss': 'chief-hrss',
};

async function act(account, kase, action) {
  return api(account, 'POST', `/api/v1/cases/${kase.id}/actions`, { ...action, version: kase.version });
}

/** Moves one child case from submission to delivery as the staff its steps name. */
async function driveToDelivery(caseId) {
  let kase = await api('admin', 'GET', `/api/v1/cases/${caseId}`);
  for (let guard = 0; guard < 20; guard += 1) {
    switch (kase.state.code) {
      case 'submitted':
      case 'pre_reviewed':
        kase = await act('clerk', kase, { action: 'accept' });
        break;
      case 'in_progress': {
        const step = kase.case.workflow.steps[kase.step.index];
        const kind = step.kind?.type ?? 'review';
        if (kind === 'decision') {
          const account = step.role === 'clerk' ? 'clerk' : CHIEF[kase.department];
          assert.ok(account, `a decider for ${kase.department}`);
          kase = await act(account, kase, { action: 'decide', granted: true, opinion: '准予' });
        } else {
          kase = await act('approver', kase, { action: 'approve', opinion: '同意' });
        }
        break;
      }
      case 'granted':
        kase = await act('clerk', kase, { action: 'issue' });
        break;
      case 'issued':
        kase = await act('clerk', kase, { action: 'deliver', how: '邮寄送达' });
        break;
      case 'delivered':
        return kase;
      default:
        assert.fail(`${kase.item_name} stopped at ${kase.state.code}`);
    }
  }
  assert.fail(`${caseId} did not finish`);
}

test('a citizen applies for the newborn bundle from the home page with one form and one set of materials', async () => {
  await page.goto(`${base}/`);
  await page.locator('#bundles a[href="/bundles/newborn"]').click();
  await page.waitForURL((u) => u.pathname === '/bundles/newborn');
  assert.ok(await page.locator('#reductions').isVisible(), 'the guide shows the reductions');
  await page.locator('a#apply-bundle').click();
  await page.waitForURL((u) => u.pathname === '/login');
  await page.locator('form#login input#account').fill('citizen');
  await page.locator('form#login input#password').fill(PASSWORD);
  await Promise.all([page.waitForURL((u) => u.pathname === '/bundles/newborn/apply'), page.locator('form#login button[type=submit]').click()]);

  // Questions first (the bundle's, then its members' own), until the form appears.
  for (let round = 0; round < 8 && (await page.locator('form#bundle-apply').count()) === 0; round += 1) {
    const sets = page.locator('form#bundle-questions fieldset');
    const count = await sets.count();
    for (let i = 0; i < count; i += 1) {
      const set = sets.nth(i);
      if ((await set.locator('input:checked').count()) === 0) await set.locator('input[type=radio]').first().check();
    }
    await Promise.all([page.waitForLoadState('load'), page.locator('form#bundle-questions button[type=submit]').click()]);
  }
  const form = page.locator('form#bundle-apply');
  assert.ok(await form.isVisible(), 'the one form is shown once the questions are answered');
  assert.ok((await page.locator('ol.members > li').count()) >= 6, 'the members applied for are listed');

  // One form: each element once.
  const elements = await page.locator('#form-fields > div.field').evaluateAll((divs) => divs.map((d) => d.dataset.element));
  assert.equal(new Set(elements).size, elements.length, `no element asked twice: ${elements}`);
  assert.equal(elements.filter((e) => e === 'child_name').length, 1);
  for (const div of await page.locator('#form-fields > div.field').all()) {
    const kind = await div.getAttribute('data-kind');
    const select = div.locator('select');
    if ((await select.count()) > 0) {
      await select.selectOption({ index: 1 });
    } else {
      await div.locator('input').fill(sample(kind));
    }
  }

  // One set of materials: the birth certificate comes from this very application (免提交).
  const certificate = page.locator('#bundle-materials > li[data-code=birth_medical_certificate]');
  assert.match(await certificate.innerText(), /免提交/);
  assert.equal(await certificate.locator('input[type=file]').count(), 0, 'no upload for a 免提交 material');
  const required = await page.locator('#bundle-materials > li:has(span.need-required)').evaluateAll((lis) => lis.map((li) => li.dataset.code));
  assert.ok(required.includes('mother_id_card'), `the mother's ID card is asked once: ${required}`);
  for (const code of required) {
    await page.locator(`#bundle-materials input[type=file][name="file.${code}"]`).setInputFiles(pdf(code));
  }
  await page.locator('input[name=delivery][value=post]').check();
  await page.locator('input#phone').fill('13800138000');
  await page.locator('input#address').fill('示范市东城区人民路1号');
  await page.screenshot({ path: join(ARTIFACTS, 'bundle-apply-phone.png'), fullPage: true });
  await noHorizontalOverflow('bundle apply page');

  await Promise.all([page.waitForURL(/\/bundle-cases\/[0-9a-f-]{36}$/), page.locator('button#submit-bundle').click()]);
  bundleCaseUrl = page.url();
  assert.equal(await page.locator('#bundle-state').getAttribute('data-state'), 'in_progress');
  assert.match(await page.locator('#bundle-number').innerText(), /^YJS\d{12}$/);
  const statuses = await page.locator('#bundle-children > li').evaluateAll((lis) => lis.map((li) => li.dataset.status));
  assert.ok(statuses.includes('open') && statuses.includes('waiting'), `some members run, others wait: ${statuses}`);
  await page.screenshot({ path: join(ARTIFACTS, 'bundle-case-submitted-phone.png'), fullPage: true });
  await noHorizontalOverflow('bundle case page');
});

test('the departments work every child case in parallel, and the citizen sees every result delivered', async () => {
  assert.ok(bundleCaseUrl, 'the bundle was submitted');
  const id = bundleCaseUrl.split('/').pop();
  for (let round = 0; round < 8; round += 1) {
    const parent = await api('citizen', 'GET', `/api/v1/bundle-applications/${id}`);
    if (parent.state.code !== 'in_progress') break;
    const open = parent.children.filter((c) => c.status === 'open' && c.state?.code !== 'delivered');
    assert.ok(open.length > 0, 'something runs while the parent is open');
    for (const child of open) await driveToDelivery(child.case_id);
  }
  await page.goto(bundleCaseUrl);
  assert.equal(await page.locator('#bundle-state').getAttribute('data-state'), 'completed');
  const states = await page.locator('#bundle-children > li').evaluateAll((lis) => lis.map((li) => li.dataset.state));
  assert.ok(states.length >= 6 && states.every((s) => s === 'delivered'), `every result delivered: ${states}`);
  assert.match(await page.locator('#bundle-history').innerText(), /全部事项已办结/);
  await page.screenshot({ path: join(ARTIFACTS, 'bundle-case-completed-phone.png'), fullPage: true });

  // The departments' use of the certificate by reference is in the citizen's data-access log.
  await page.goto(`${base}/my/data-access`);
  assert.match(await page.locator('main').innerText(), /免提交/);
  assert.deepEqual(pageErrors, [], 'no script errors');
});
