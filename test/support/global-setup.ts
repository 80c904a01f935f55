/**
 * Operation coverage: the suite fails when an operation of openapi.yaml is exercised by no test.
 * Workers append the operationIds their responses matched to files in a fresh folder (see
 * http-contract.ts); teardown, in the main vitest process, compares them with the spec.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COVERAGE_DIR_ENV, listOperations } from './http-contract.js';
import { findLeakedSecrets, LOG_AUDIT_DIR_ENV } from './log-audit.js';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'contract-coverage-'));
  // Set before any worker starts: vitest forks workers with this process's environment.
  process.env[COVERAGE_DIR_ENV] = dir;
  const auditDir = mkdtempSync(join(tmpdir(), 'gateway-log-audit-'));
  process.env[LOG_AUDIT_DIR_ENV] = auditDir;

  return function teardown() {
    try {
      // Only the full run (`npm test` sets CONTRACT_COVERAGE=1) can be expected to cover everything.
      if (process.env.CONTRACT_COVERAGE === '1') reportUnexercised(dir);
    } catch (error) {
      fail(`contract coverage could not be checked: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      delete process.env[COVERAGE_DIR_ENV];
    }
    try {
      reportLeakedSecrets(auditDir);
    } catch (error) {
      fail(`the log audit could not be checked: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      rmSync(auditDir, { recursive: true, force: true });
      delete process.env[LOG_AUDIT_DIR_ENV];
    }
  };
}

function reportUnexercised(dir: string): void {
  const exercised = new Set(
    readdirSync(dir).flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean)),
  );
  const operations = listOperations();
  const missing = operations.filter((op) => !exercised.has(op.operationId));
  if (missing.length === 0) {
    console.log(`contract coverage: all ${operations.length} operations of openapi.yaml exercised`);
    return;
  }
  fail(
    `contract coverage: ${missing.length} operation(s) of openapi.yaml exercised by no test:\n` +
      missing.map((op) => `  - ${op.operationId} (${op.method.toUpperCase()} ${op.pathTemplate})`).join('\n'),
  );
}

function reportLeakedSecrets(dir: string): void {
  const { lines, gateways, leaks } = findLeakedSecrets(dir);
  if (leaks.length === 0) {
    console.log(`log audit: no configured secret in any of ${lines} log lines from ${gateways} gateways`);
    return;
  }
  fail(`log audit: ${leaks.length} log line(s) hold a configured secret:\n${leaks.slice(0, 20).map((l) => `  - ${l}`).join('\n')}`);
}

/** vitest 4 only logs an error thrown by a global teardown ("error during close") and still
 *  exits 0, so the failure is carried by the exit code instead. */
function fail(message: string): void {
  process.exitCode = 1;
  console.error(`\n${message}\n`);
}
