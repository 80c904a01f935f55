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
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      ...(secrets.length > 0 ? { hooks: { streamWrite: scrub } } : {}),
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
