/**
 * "Secrets absent from every log line produced by all the suites" (issue 6), checked once for the
 * whole run: every gateway a test starts, in-process (gateway.ts) or as a process (process.ts),
 * appends its log lines and the secret values it was configured with to a file in a folder made by
 * global-setup.ts; the teardown there fails the run if any line holds any of those secrets.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOG_AUDIT_DIR_ENV = 'GATEWAY_LOG_AUDIT_DIR';

/** The environment variables whose values the gateway must never log (src/config/config.ts). */
const SECRET_VARIABLES = ['KUCOIN_FUTURES_KEY', 'KUCOIN_FUTURES_SECRET', 'KUCOIN_FUTURES_PASSPHRASE', 'GATEWAY_API_KEYS', 'ADMIN_API_KEYS'];
/** Shorter values could turn up by chance (e.g. "2" as a key version); every real secret is longer. */
const MIN_SECRET_LENGTH = 8;

let counter = 0;

/** Starts the audit file of one gateway; returns the function that records each of its log lines. */
export function auditGatewayLog(secrets: readonly string[]): (line: string) => void {
  const dir = process.env[LOG_AUDIT_DIR_ENV];
  if (dir === undefined) return () => {};
  const file = join(dir, `${process.pid}-${counter++}.log`);
  appendFileSync(file, `${JSON.stringify(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH))}\n`);
  return (line) => appendFileSync(file, `${line.replaceAll('\n', ' ')}\n`);
}

/** The secret values a gateway process is configured with: its environment and its working directory's .env. */
export function secretsOfProcess(env: Record<string, string>, cwd: string): string[] {
  const values = SECRET_VARIABLES.map((name) => env[name]);
  const envFile = join(cwd, '.env');
  if (existsSync(envFile)) {
    for (const raw of readFileSync(envFile, 'utf8').split('\n')) {
      const match = /^\s*(?:export\s+)?([A-Z_]+)\s*=\s*(.*)$/.exec(raw);
      if (match && SECRET_VARIABLES.includes(match[1]!)) values.push(match[2]!.trim().replace(/^(['"])(.*)\1$/, '$2'));
    }
  }
  return [...values.flatMap((value) => (value ?? '').split(',')).map((s) => s.trim()).filter(Boolean), ...redisPassword(env.REDIS_URL)];
}

/** The password in a REDIS_URL, if any (and the URL itself, which holds it). */
export function redisPassword(url: string | undefined): string[] {
  if (url === undefined || !URL.canParse(url)) return [];
  const password = decodeURIComponent(new URL(url).password);
  return password === '' ? [] : [password, url];
}

/** For the global teardown: each log line holding a secret of any audited gateway, masked. */
export function findLeakedSecrets(dir: string): { lines: number; gateways: number; leaks: string[] } {
  const files = readdirSync(dir).map((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean));
  const secrets = new Set(files.flatMap(([header]) => (header ? (JSON.parse(header) as string[]) : [])));
  const leaks: string[] = [];
  let lines = 0;
  for (const [, ...logLines] of files) {
    for (const line of logLines) {
      lines++;
      for (const secret of secrets) {
        if (line.includes(secret)) leaks.push(line.replaceAll(secret, `<secret ${secret.slice(0, 3)}…>`).slice(0, 400));
      }
    }
  }
  return { lines, gateways: files.length, leaks };
}
