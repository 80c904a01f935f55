/**
 * Writes docs/images/reference-page.png: the reference page of a gateway started here (loopback,
 * free port, futures on, no KuCoin), in Debian's Chromium (`apt-get install chromium`), with the
 * order-placing operation expanded. Run with `npx tsx scripts/screenshot-docs.ts [out.png]`.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig } from '../src/config/config.js';
import { createGateway } from '../src/gateway.js';
import { projectRoot } from '../src/paths.js';

const out = resolve(process.argv[2] ?? `${projectRoot}/docs/images/reference-page.png`);
const config = loadConfig({ env: { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', FEATURE_FUTURES: 'true', FUTURES_BASE_URL: 'http://127.0.0.1:9' }, envFile: false });
const gateway = await createGateway({ config });
await gateway.listen();
const { port } = gateway.server.address() as { port: number };
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(`http://127.0.0.1:${port}/api/docs`);
  const operation = page.locator('#operations-orders-createOrder');
  await operation.locator('.opblock-summary').first().click();
  await operation.locator('.opblock-body').waitFor();
  // The order operation just below the (sticky) bar, with the operations before it in view.
  await page.locator('#operations-funding-getFundingRate').evaluate((element) => element.scrollIntoView());
  await page.mouse.wheel(0, -180);
  await page.waitForTimeout(300);
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await gateway.shutdown();
}
