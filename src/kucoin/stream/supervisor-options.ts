/**
 * How the supervisor of the KuCoin private stream is set up: what it is given, its timing
 * defaults, and the check that a timing is usable (a zero or NaN timeout would spin or never fire).
 */
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Metrics } from '../../observability/metrics.js';
import type { BulletSource } from './bullet.js';
import type { ConnectPacing } from './pacing.js';

export interface SupervisorOptions {
  /** For bullet-private tokens; a KucoinClient. */
  client: BulletSource;
  logger: Logger;
  metrics: Metrics;
  now?: () => number;
  /** From opening the socket to KuCoin's `welcome`; default 10000. */
  welcomeTimeoutMs?: number;
  /** Full jitter; default 500 / 30000. */
  backoff?: { initialMs: number; maxMs: number };
  /** Planned make-before-break reconnect; default 23 h (KuCoin cuts at 24 h). */
  rotateAfterMs?: number;
  /** Keep the connection this long after the last release; default 30000. */
  lingerMs?: number;
  createSocket?: (url: string) => WebSocket;
  /** Wait this long for each (un)subscribe ack before the connection counts as dead; default 10000. */
  ackTimeoutMs?: number;
  /** A connection up this long is healthy: the backoff and the disconnect streak start over. Default 60000. */
  stableAfterMs?: number;
  /** The jitter's and the server choice's randomness in [0, 1); default Math.random. */
  random?: () => number;
  /**
   * Asked before every new connection attempt (initial, reconnect, rotation): the account's new
   * connections are capped across replicas (pacing.ts). None: attempts follow the backoff only.
   */
  pacing?: ConnectPacing;
}

export interface SupervisorTiming {
  welcomeTimeoutMs: number;
  ackTimeoutMs: number;
  rotateAfterMs: number;
  lingerMs: number;
  stableAfterMs: number;
}

/** The options' timings with their defaults; a RangeError names a timing that is not usable. */
export function supervisorTiming(options: SupervisorOptions): SupervisorTiming {
  return {
    welcomeTimeoutMs: positive('welcomeTimeoutMs', options.welcomeTimeoutMs ?? 10_000),
    ackTimeoutMs: positive('ackTimeoutMs', options.ackTimeoutMs ?? 10_000),
    rotateAfterMs: positive('rotateAfterMs', options.rotateAfterMs ?? 23 * 3_600_000),
    lingerMs: atLeastZero('lingerMs', options.lingerMs ?? 30_000),
    stableAfterMs: atLeastZero('stableAfterMs', options.stableAfterMs ?? 60_000),
  };
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

function atLeastZero(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name} must be a number of at least 0, got ${value}`);
  return value;
}
