/**
 * The start path of the built gateway (`node dist/main.js`; run `npm run build` first). Most of a
 * start was node loading files one by one, so the build bundles the entry (scripts/write-dist-entry.mjs).
 * Checked here: the bundle starts without loading any package file or any of tsc's dist/src/
 * modules from disk, and what it still reads at run time is found (the contracts, Swagger UI's
 * files, the WebSocket page's lazily loaded chunk). Speed itself is the benchmark's to report.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { request } from '../support/http-client.js';
import { builtGateway, makeTempDir, startGatewayProcess, stopGatewayProcesses } from '../support/process.js';

// Preloaded into the gateway: once it listens, prints every CommonJS file node has loaded so far
// (packages imported from ES modules are there too, so unbundled the list holds hundreds).
const PRELOAD = `
const http = require('node:http');
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
  this.once('listening', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(require.cache)) + '\\n'));
  return listen.apply(this, args);
};
`;

afterAll(stopGatewayProcesses);

describe('the built entry (dist/main.js)', () => {
  it('starts without loading package files or dist/src modules one by one, and answers health and the docs', async () => {
    const dir = makeTempDir('start-bundle-');
    const preload = join(dir, 'loaded.cjs');
    writeFileSync(preload, PRELOAD);
    const gw = await startGatewayProcess({ args: ['--require', preload, ...builtGateway()], cwd: dir, env: { LOG_LEVEL: 'info' } });

    expect((await request(gw.baseUrl, 'GET', '/api/health')).status).toBe(200);
    const line = gw.stderrLines().find((l) => l.startsWith('LOADED '));
    expect(line, gw.stderrLines().join('\n')).toBeDefined();
    const loaded = JSON.parse(line!.slice('LOADED '.length)) as string[];
    expect(loaded).toContain(preload);
    const fromDisk = loaded.filter((file) => file.includes('/node_modules/') || file.includes('/dist/src/'));
    expect(fromDisk, `loaded one by one at start:\n${fromDisk.join('\n')}`).toEqual([]);

    // Read at run time, relative to the project root or a package: still found from the bundle.
    const docs = await request(gw.baseUrl, 'GET', '/api/docs');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('/api/docs/assets/swagger-ui-bundle.js');
    const swagger = await request(gw.baseUrl, 'GET', '/api/docs/assets/swagger-ui-bundle.js');
    expect(swagger.status).toBe(200);
    expect(swagger.text.length).toBeGreaterThan(100_000);
    // A chunk of the bundle, loaded on first use (it carries marked).
    const socketDocs = await request(gw.baseUrl, 'GET', '/api/docs/websocket');
    expect(socketDocs.status).toBe(200);
    expect(socketDocs.text).toContain('/ws/futures');
    const contract = await request(gw.baseUrl, 'GET', '/api/openapi.json');
    expect(contract.status).toBe(200);
    expect(contract.body.paths['/api/health']).toBeDefined();
  }, 30_000);
});
