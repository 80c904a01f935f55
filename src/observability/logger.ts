import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

/**
 * Paths pino removes before a line is written. Headers cover what callers send us (gateway keys)
 * and what we send KuCoin (KC-API-*); the wildcards cover config and upstream objects.
 */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["kc-api-key"]',
  'req.headers["kc-api-sign"]',
  'req.headers["kc-api-passphrase"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["KC-API-KEY"]',
  'headers["KC-API-SIGN"]',
  'headers["KC-API-PASSPHRASE"]',
  '*.secret',
  '*.passphrase',
  '*.apiKey',
  '*.apiKeys',
  '*.adminApiKeys',
  '*.token',
  '*.credentials',
  'secret',
  'passphrase',
  'token',
  'credentials',
];

const REDACTED = '[REDACTED]';

let second = Number.NaN;
let secondPrefix = '';

/**
 * pino's `isoTime`, the same text (`,"time":"2026-12-05T02:16:44.123Z"`), without building a Date
 * and formatting it for every line: the part up to the second is formatted once per second and
 * the milliseconds appended (~4 µs a line at benchmark 1's rates).
 */
export function isoTime(now: number = Date.now()): string {
  if (!(now >= 0 && Number.isInteger(now))) return `,"time":"${new Date(now).toISOString()}"`;
  const ms = now % 1000;
  const s = now - ms;
  if (s !== second) {
    second = s;
    secondPrefix = new Date(s).toISOString().slice(0, 20);
  }
  return `,"time":"${secondPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
}

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Every secret value the process knows; scrubbed from each line wherever it appears. */
  secrets: readonly string[];
  destination?: DestinationStream;
}

/**
 * Path redaction cannot know where a secret might be echoed (an error message, a query string,
 * a URL), so every written line is also scrubbed of the configured secret values themselves.
 */
export function createLogger(options: LoggerOptions): Logger {
  const secrets = options.secrets.filter((s) => s.length >= 4);
  const scrub = (line: string): string => {
    let out = line;
    for (const secret of secrets) if (out.includes(secret)) out = out.replaceAll(secret, REDACTED);
    return out;
  };
  return pino(
    {
      level: options.level,
      base: { service: 'futures-gateway' },
      redact: { paths: redactPaths, censor: REDACTED },
      timestamp: isoTime,
      formatters: { level: (label) => ({ level: label }) },
      ...(secrets.length > 0 ? { hooks: { streamWrite: scrub } } : {}),
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
