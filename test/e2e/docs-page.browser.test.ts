/**
 * The reference page as a person uses it: Debian's Chromium (headless, driven by playwright-core,
 * which downloads no browser of its own) opens /api/docs on a running gateway, reads an operation,
 * sends a "Try it out" call, and the page loads nothing from anywhere but the gateway and breaks
 * no rule of its Content-Security-Policy.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from '../support/gateway.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/**
 * The page is opened by a name that is not localhost, as a person on another machine would reach
 * it: Chromium upgrades nothing on localhost or 127.0.0.0/8, so only a real host name shows a CSP
 * `upgrade-insecure-requests` sending the page's own files to https. The name resolves to the
 * gateway's loopback address inside this browser alone.
 */
const HOST = 'gateway.test';

let base: string;

let gateway: RunningGateway;
let browser: Browser;
let page: Page;
let requested: string[];
let consoleErrors: string[];

beforeAll(async () => {
  // Never skipped: CI installs Chromium (.ci/run), and a missing browser must fail loudly.
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y --no-install-recommends chromium\` (or set CHROMIUM_PATH)`);
  }
  // The page is served under a name other than loopback's, which the Host check admits only when listed.
  gateway = await startGateway({ FEATURE_FUTURES: 'true', ALLOWED_HOSTS: `localhost,127.0.0.1,${HOST}` });
  base = `http://${HOST}:${new URL(gateway.baseUrl).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: [`--host-resolver-rules=MAP ${HOST} 127.0.0.1`] });
}, 30_000);
afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
});

beforeEach(async () => {
  requested = [];
  consoleErrors = [];
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('request', (r) => requested.push(r.url()));
  // Chromium reports every CSP violation ("Refused to load/execute/connect ...") and every failed
  // load as a console error. One error is expected and not the page's: over plain HTTP at a host
  // that is not localhost, Chromium ignores helmet's Cross-Origin-Opener-Policy and says so (the
  // header still applies over https and on localhost, so it stays).
  page.on('console', (m) => {
    const text = m.text();
    if (/Cross-Origin-Opener-Policy header has been ignored/.test(text)) return;
    if (m.type() === 'error' || /Content Security Policy/i.test(text)) consoleErrors.push(text);
  });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
});
afterEach(async () => {
  await page?.close();
});

function expectOnlyGatewayRequests(): void {
  const origin = new URL(base).origin;
  expect(requested.length).toBeGreaterThan(0);
  for (const url of requested) expect(new URL(url).origin, url).toBe(origin);
}

describe('/api/docs in a browser', () => {
  it('renders every operation and an operation\'s parameters and schema, from the gateway alone, with no CSP violation', async () => {
    await page.goto(`${base}/api/docs`);
    await page.locator('#operations-system-getHealth').waitFor({ timeout: 20_000 });
    for (const id of ['positions-listPositions', 'leverage-setLeverage', 'orders-createOrder', 'orders-listOrders', 'admin-setFuturesSwitch']) {
      await expect(page.locator(`#operations-${id}`).count(), id).resolves.toBe(1);
    }

    const listOrders = page.locator('#operations-orders-listOrders');
    await listOrders.locator('.opblock-summary').first().click();
    await expect(listOrders.locator('.parameters').innerText()).resolves.toContain('symbol');

    const createOrder = page.locator('#operations-orders-createOrder');
    await createOrder.locator('.opblock-summary').first().click();
    await createOrder.getByText('Request body').first().waitFor();
    await createOrder.locator('[data-name="model"]').first().click();
    const schema = await createOrder.locator('.model-box').first().innerText();
    expect(schema).toMatch(/OrderRequest/);
    expect(schema).toMatch(/symbol/);

    // Markdown descriptions are rendered: code spans become <code>, no raw backticks.
    const description = createOrder.locator('.opblock-description-wrapper').first();
    await expect(description.locator('code').count()).resolves.toBeGreaterThan(0);
    await expect(description.innerText()).resolves.not.toContain('`');

    // The error catalogue and the link to the WebSocket reference are on the page too.
    await expect(page.locator('#error-codes').innerText()).resolves.toContain('UPSTREAM_RATE_LIMITED');
    await expect(page.locator('a[href="/api/docs/websocket"]').count()).resolves.toBe(1);

    expectOnlyGatewayRequests();
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it('"Try it out" on GET /api/health calls this gateway and shows its 200 answer', async () => {
    await page.goto(`${base}/api/docs`);
    const health = page.locator('#operations-system-getHealth');
    await health.waitFor({ timeout: 20_000 });
    await health.locator('.opblock-summary').first().click();
    await health.getByRole('button', { name: 'Try it out' }).click();
    const answered = page.waitForResponse((r) => r.url() === `${base}/api/health`);
    await health.getByRole('button', { name: 'Execute' }).click();
    expect((await answered).status()).toBe(200);
    const live = health.locator('.live-responses-table');
    await expect(live.locator('tr.response .response-col_status').first().innerText()).resolves.toContain('200');
    await expect(live.locator('tr.response .response-col_description').first().innerText()).resolves.toContain('"status": "ok"');

    expectOnlyGatewayRequests();
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it('the WebSocket reference renders the messages and close codes, with no script and no CSP violation', async () => {
    await page.goto(`${base}/api/docs/websocket`);
    await expect(page.locator('h2#messages').count()).resolves.toBe(1);
    await expect(page.locator('#message-positionUpdate').innerText()).resolves.toContain('position_update');
    await expect(page.locator('#close-codes + table').innerText()).resolves.toContain('4404');
    await expect(page.locator('main').innerText()).resolves.not.toMatch(/`[^`\n]+`/);
    expectOnlyGatewayRequests();
    expect(consoleErrors).toEqual([]);
  }, 30_000);
});
