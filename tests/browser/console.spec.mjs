// The Rampart web console in headless Chromium, against a running
// `rampart demo` (tests/browser/run.sh starts one):
//
//   sign in; the overview shows traffic; the API inventory shows the demo
//   shop's learned endpoints with a business function; an attack the test
//   sends through the node is found, opened and marked a false positive;
//   the node reports the rule pack with the exception, and the same request
//   passes the node; an incident the scanner confirmed in the shop's lab is
//   opened and acknowledged. An analyst sees the console read-only.
//
// Every step saves a screenshot in SHOT_DIR. Waits poll the page with an
// overall cap (they are hang guards, not timing assertions).
//
// Env: CONSOLE_URL, RAMPART_USER, RAMPART_PASSWORD, NODE_URL, SHOT_DIR,
// CHROMIUM (default /usr/bin/chromium), WAIT_SECS (default 240).

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import { randomBytes } from 'node:crypto';

const CONSOLE_URL = must('CONSOLE_URL').replace(/\/+$/, '');
const NODE_URL = must('NODE_URL').replace(/\/+$/, '');
const USER = process.env.RAMPART_USER || 'admin';
const PASSWORD = must('RAMPART_PASSWORD');
const SHOT_DIR = process.env.SHOT_DIR || 'target/console-screenshots';
const WAIT_MS = (Number(process.env.WAIT_SECS) || 240) * 1000;

function must(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`console.spec: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

// ---------------------------------------------------------------------------
// Helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Failure extends Error {}

function check(cond, msg) {
  if (!cond) throw new Failure(msg);
}

/**
 * Polls `probe` until it returns a truthy value, at most `cap` ms overall
 * (a hang guard). `probe` may throw; the last error is reported.
 */
async function until(what, probe, { cap = WAIT_MS, every = 2000 } = {}) {
  const end = Date.now() + cap;
  let last = null;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Failure(`gave up waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    }
    await sleep(every);
  }
}

/** Percent-encodes a query value (everything but unreserved characters). */
function enc(s) {
  return Array.from(new TextEncoder().encode(s), (b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

/** One GET to the protected shop through the node: {status, requestId}. */
function nodeGet(pathAndQuery, client) {
  const u = new URL(NODE_URL);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname, port: u.port || 80, method: 'GET', path: pathAndQuery,
      headers: {
        'User-Agent': 'Mozilla/5.0 (console browser test)',
        Accept: 'text/html',
        ...(client ? { 'X-Forwarded-For': client } : {}),
      },
      agent: false,
    }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, requestId: res.headers['x-request-id'] || '' }));
    });
    req.on('error', reject);
    req.setTimeout(20000, () => req.destroy(new Error(`GET ${pathAndQuery} timed out`)));
    req.end();
  });
}

let shotNo = 0;
/** Saves a full-page screenshot `NN-name.png`. */
async function shot(page, name) {
  shotNo += 1;
  const file = join(SHOT_DIR, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`    screenshot ${file}`);
}

/** Navigates to a console route and waits for the page to render. */
async function go(page, hash) {
  await page.goto(`${CONSOLE_URL}/${hash}`);
  await page.waitForSelector('#shell:not([hidden])');
  await page.waitForFunction(() => !document.querySelector('#view .loading'));
}

/** Reloads the current route (a fresh fetch of its data). */
async function reload(page) {
  await page.reload();
  await page.waitForSelector('#shell:not([hidden])');
  await page.waitForFunction(() => !document.querySelector('#view .loading'));
}

async function text(locator) {
  return ((await locator.textContent()) || '').trim();
}

const steps = [];
async function step(name, page, fn) {
  const started = Date.now();
  console.log(`- ${name}`);
  try {
    await fn();
    steps.push([name, 'ok']);
    console.log(`  ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (e) {
    steps.push([name, 'FAILED']);
    console.log(`  FAILED: ${e.message}`);
    try {
      const banner = await page.locator('#banner:not([hidden])').textContent({ timeout: 500 });
      if (banner) console.log(`  the page's banner says: ${banner.trim()}`);
    } catch {
      // no banner
    }
    try {
      await page.screenshot({ path: join(SHOT_DIR, `failed-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`), fullPage: true });
    } catch {
      // the page may be gone
    }
    throw e;
  }
}

// ---------------------------------------------------------------------------
// The test

const marker = `e2e${randomBytes(4).toString('hex')}`;
// A SQL injection in the shop's search box, blocked by the node (the marker
// after the comment makes this run's request its own).
const ATTACK_PATH = `/search?q=${enc(`1' union select password from users-- ${marker}`)}`;
// Attacks at the shop's deliberately vulnerable lab, for the cloud's
// scanner to confirm (an incident each).
const LAB_ATTACKS = [
  `/lab/vuln/products?category=${enc("shoes' UNION SELECT username, password_hash, 1, 2 FROM users--")}`,
  `/lab/vuln/download?file=${enc('../../../../etc/passwd')}`,
];

async function main() {
  mkdirSync(SHOT_DIR, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  // Confirm dialogs (deleting) are accepted.
  page.on('dialog', (d) => d.accept());

  let failed = false;
  try {
    await run(page);
  } catch (e) {
    failed = true;
    if (!(e instanceof Failure)) console.log(e.stack);
  } finally {
    // playwright-core gives the browser a fresh profile and removes it.
    await browser.close().catch(() => {});
  }
  // A Content-Security-Policy violation or a script error is a failure.
  const bad = consoleErrors.filter((t) => /Content Security Policy|page error|SyntaxError|TypeError|ReferenceError/i.test(t));
  if (bad.length) {
    failed = true;
    console.log('Errors in the browser console:');
    for (const t of bad) console.log(`  ${t}`);
  }
  console.log('\nSteps:');
  for (const [name, r] of steps) console.log(`  ${r.padEnd(6)} ${name}`);
  console.log(failed ? '\nconsole test FAILED' : '\nconsole test passed');
  process.exit(failed ? 1 : 0);
}

async function run(page) {
  await step('sign in', page, async () => {
    await page.goto(`${CONSOLE_URL}/`);
    await page.waitForSelector('#login-form');
    check(await page.locator('#shell').isHidden(), 'the console is hidden before signing in');
    // A wrong password is refused on the form.
    await page.fill('#login-name', USER);
    await page.fill('#login-password', `${PASSWORD}-wrong`);
    await page.click('#login-submit');
    await page.waitForSelector('#login-error:not([hidden])');
    await page.fill('#login-password', PASSWORD);
    await shot(page, 'login');
    await page.click('#login-submit');
    await page.waitForSelector('#shell:not([hidden])');
    check(await text(page.locator('#user-name')) === USER, 'the signed-in user is shown');
    check((await text(page.locator('#user-role'))) === 'admin', 'the role is shown');
    check((await page.locator('#app-select option').count()) >= 1, 'an application is selectable');
  });

  // The lab attacks go out first: the scanner confirms them while the
  // rest of the test runs.
  await step('send attacks at the lab (for the scanner)', page, async () => {
    for (const p of LAB_ATTACKS) {
      const { status } = await nodeGet(p, '198.51.100.77');
      console.log(`    GET ${p} -> ${status}`);
      check(status === 403, `the node blocks ${p}`);
    }
  });

  await step('overview shows traffic', page, async () => {
    await go(page, '#/overview');
    await until('nonzero requests on the overview', async () => {
      const n = Number((await text(page.locator('[data-test="total-requests"]'))).replace(/[^0-9]/g, ''));
      if (n > 0) return true;
      await reload(page);
      return false;
    }, { every: 3000 });
    check(await page.locator('svg[data-test="plot-requests"] path.line').count() === 1, 'the requests plot is drawn');
    check(await page.locator('[data-test="overview-nodes"] [data-test="node-health"]').count() >= 1, 'the node is listed with its health');
    await shot(page, 'overview');
  });

  await step('inventory shows learned endpoints with a business function', page, async () => {
    await go(page, '#/inventory');
    const row = await until('a learned /products/{…} endpoint with a business function', async () => {
      const rows = page.locator('[data-test="endpoint-row"]');
      const n = await rows.count();
      let product = null;
      let withFunction = 0;
      for (let i = 0; i < n; i++) {
        const r = rows.nth(i);
        const tpl = await r.getAttribute('data-template');
        const fn = await text(r.locator('[data-test="endpoint-function"]'));
        if (fn && fn !== '—') withFunction += 1;
        if (/^\/products\/\{[a-z_]+\}$/.test(tpl || '')) product = r;
      }
      if (product && withFunction > 0) return product;
      await sleep(3000);
      await reload(page);
      return null;
    }, { every: 0 });
    console.log(`    ${await text(page.locator('[data-test="inventory-count"]'))}`);
    await row.click();
    await page.waitForSelector('[data-test="endpoint-params"], .detail-row');
    await page.fill('#inventory-filter', 'products');
    await shot(page, 'inventory');
    await page.fill('#inventory-filter', '');
  });

  let attackId = null;
  await step('an attack sent through the node is listed and searchable', page, async () => {
    const { status, requestId } = await nodeGet(ATTACK_PATH, '203.0.113.50');
    console.log(`    GET ${ATTACK_PATH} -> ${status}, request id ${requestId}`);
    check(status === 403, 'the node blocks the SQL injection');
    check(requestId !== '', 'the node names the request (X-Request-Id)');
    await go(page, '#/attacks');
    // Searched by its request id (the stored payload is the matched part).
    await until('the attack in the list', async () => {
      await page.fill('#attack-q', requestId);
      await page.click('#attack-search-submit');
      await page.waitForFunction(() => !document.querySelector('#view .loading'));
      await page.waitForSelector('[data-test="attacks"]');
      return (await page.locator('[data-test="attack-row"]').count()) > 0;
    }, { every: 3000 });
    // The event at the parameter (not a whole-request row).
    const rows = page.locator('[data-test="attack-row"]').filter({ hasText: 'query.q' });
    check(await rows.count() > 0, 'a listed attack is at query.q');
    attackId = await rows.first().getAttribute('data-id');
    check(await text(rows.first()) !== '', 'the row has content');
    await shot(page, 'attacks');
  });

  await step('open the attack', page, async () => {
    await page.locator(`[data-test="attack-row"][data-id="${attackId}"] [data-test="attack-link"]`).click();
    await page.waitForSelector('[data-test="attack-tree"]');
    check(await text(page.locator('[data-test="attack-point"]')) === 'query.q', 'the point is shown');
    check((await text(page.locator('[data-test="attack-endpoint"]'))).includes('/search'), 'the endpoint is shown');
    const mark = await text(page.locator('[data-test="tree-payload"]').last());
    check(mark.toLowerCase().includes('union select'), `the payload is marked in the request tree (${mark})`);
    check(await page.locator('[data-test="mark-fp"]').isEnabled(), 'an admin may mark it a false positive');
    await shot(page, 'attack');
  });

  let packVersion = null;
  let exceptionRule = null;
  await step('mark it a false positive', page, async () => {
    await page.click('[data-test="mark-fp"]');
    await page.waitForSelector('[data-test="fp-result"]');
    const rule = await text(page.locator('[data-test="fp-rule"]'));
    check(rule.length > 0, 'the exception rule id is shown');
    exceptionRule = rule;
    const v = await text(page.locator('[data-test="fp-pack-version"]'));
    packVersion = Number(v.replace(/^v/, ''));
    check(packVersion > 0, `the new rule pack version is shown (${v})`);
    console.log(`    exception rule ${rule}, rule pack v${packVersion}`);
    await shot(page, 'false-positive');
    // The rule is in the rules list, learned or custom.
    await go(page, `#/rules/${encodeURIComponent(rule)}`);
    await page.waitForSelector('#rule-source');
    await page.waitForSelector('[data-test="rule-ok"], [data-test="diagnostic"]');
  });

  await step('the node reports the rule pack with the exception', page, async () => {
    await go(page, '#/nodes');
    await until(`a node on rule pack v${packVersion}`, async () => {
      const packs = await page.locator('[data-test="node-row"]').evaluateAll((rs) => rs.map((r) => Number(r.dataset.pack)));
      if (packs.some((p) => p >= packVersion)) return true;
      await reload(page);
      return false;
    }, { every: 3000 });
    await shot(page, 'nodes');
    await go(page, `#/packs/${packVersion}`);
    await page.waitForSelector(`[data-test="pack-row"][data-version="${packVersion}"]`);
    await until('the node listed on the pack', async () => {
      const row = page.locator(`[data-test="pack-row"][data-version="${packVersion}"] [data-test="pack-node"]`);
      if (await row.count() > 0) return true;
      await reload(page);
      return false;
    }, { every: 3000 });
    const added = page.locator('[data-test="diff-added"]').filter({ hasText: exceptionRule });
    await added.first().waitFor();
    await added.first().locator('summary').click();
    await shot(page, 'packs');
  });

  await step('the same request now passes the node', page, async () => {
    const status = await until('the request to pass', async () => {
      const { status: s } = await nodeGet(ATTACK_PATH, '203.0.113.50');
      return s !== 403 ? s : null;
    }, { cap: 60_000, every: 2000 });
    console.log(`    GET ${ATTACK_PATH} -> ${status}`);
  });

  await step('rules list and the editor with live diagnostics', page, async () => {
    await go(page, '#/rules');
    const fp = page.locator(`[data-test="rule-row"][data-id="${exceptionRule}"]`);
    await fp.waitFor();
    check((await text(fp)).includes('custom') || (await text(fp)).includes('learned'), 'the rule shows its origin');
    await shot(page, 'rules');
    await go(page, '#/rules/new');
    await page.fill('#rule-id', `e2e-${marker}`);
    await page.waitForSelector('[data-test="rule-ok"]');
    await page.locator('#rule-source').press('End');
    await page.fill('#rule-source', `rule e2e-${marker} "broken" {\n    when query.q ~~ "x"\n    then block\n}\n`);
    await page.waitForSelector('[data-test="diagnostic"]');
    const rendered = await text(page.locator('.diag-rendered').first());
    check(rendered.length > 0, 'a diagnostic is rendered');
    check((await text(page.locator('[data-test="diag-line"]').first())).startsWith('line 2'), 'the diagnostic names line 2');
    await shot(page, 'rule-editor');
  });

  await step('open an incident and acknowledge it', page, async () => {
    await go(page, '#/incidents');
    await until('an incident confirmed by the scanner', async () => {
      if (await page.locator('[data-test="incident-row"]').count() > 0) return true;
      await reload(page);
      return false;
    }, { every: 3000 });
    await shot(page, 'incidents');
    // An open incident, the lab's if there is one.
    const open = page.locator('[data-test="incident-row"]').filter({ hasText: 'open' });
    const lab = open.filter({ hasText: '/lab/vuln/' });
    const row = (await lab.count()) ? lab.first() : open.first();
    await row.locator('[data-test="incident-link"]').click();
    await page.waitForSelector('[data-test="incident-evidence"]');
    check((await text(page.locator('[data-test="incident-status"]'))) === 'open', 'the incident is open');
    check((await text(page.locator('[data-test="incident-evidence"]'))).startsWith('{'), 'the evidence is shown as JSON');
    await page.waitForSelector('[data-test="notifications"]');
    await shot(page, 'incident');
    await page.click('[data-test="incident-ack"]');
    await page.waitForFunction(() => document.querySelector('[data-test="incident-status"]').textContent.trim() === 'acknowledged');
    await reload(page);
    check((await text(page.locator('[data-test="incident-status"]'))) === 'acknowledged', 'the status is stored');
    check(await page.locator('[data-test="incident-resolve"]').isEnabled(), 'the workflow offers resolving next');
    await shot(page, 'incident-acknowledged');
  });

  await step('the overview and inventory after the run', page, async () => {
    await go(page, '#/overview?minutes=15');
    await page.waitForSelector('[data-test="total-requests"]');
    await shot(page, 'overview-later');
    await go(page, '#/inventory');
    // The checkout form's parameters (personal data) when learned by now.
    const checkout = page.locator('[data-test="endpoint-row"][data-template="/checkout"]').filter({ hasText: 'POST' });
    if (await checkout.count()) await checkout.first().click();
    await shot(page, 'inventory-later');
  });

  await step('an analyst sees the console read-only', page, async () => {
    const name = `analyst-${marker}`;
    const password = randomBytes(12).toString('hex');
    await go(page, '#/settings');
    await page.fill('#user-new-name', name);
    await page.fill('#user-new-password', password);
    await page.selectOption('#user-new-role', 'analyst');
    await page.click('[data-test="user-create"]');
    await page.waitForSelector(`[data-test="user-row"][data-name="${name}"]`);
    await page.fill('#token-label', `e2e-${marker}`);
    await page.click('[data-test="token-create"]');
    await page.waitForSelector('[data-test="new-token-value"]');
    check((await text(page.locator('[data-test="new-token-value"]'))).length >= 16, 'the new token is shown once');
    await shot(page, 'settings');
    await page.click('#logout');
    await page.waitForSelector('#login-form');

    // The analyst signs in on the same page.
    await page.fill('#login-name', name);
    await page.fill('#login-password', password);
    await page.click('#login-submit');
    await page.waitForSelector('#shell:not([hidden])');
    check((await text(page.locator('#user-role'))) === 'analyst', 'the analyst role is shown');
    await go(page, `#/attacks/${attackId}`);
    await page.waitForSelector('[data-test="attack-tree"]');
    // That attack has its exception now, so its button is gone: an attack
    // at the lab shows the analyst a disabled one.
    await go(page, '#/attacks?q=%2Flab%2Fvuln%2F');
    const other = page.locator('[data-test="attack-row"]').filter({ hasText: 'query.' });
    if (await other.count()) {
      await other.first().locator('[data-test="attack-link"]').click();
      await page.waitForSelector('[data-test="attack-tree"], [data-test="fp-box"]');
      const button = page.locator('[data-test="mark-fp"]');
      if (await button.count()) {
        check(await button.isDisabled(), 'an analyst cannot mark a false positive');
        await shot(page, 'analyst-attack');
      }
    }
    await go(page, '#/packs');
    check(await page.locator('[data-test="deploy-pack"]').isDisabled(), 'an analyst cannot deploy');
    await shot(page, 'analyst-packs');
    await page.click('#logout');
    await page.waitForSelector('#login-form');
  });
}

main();
