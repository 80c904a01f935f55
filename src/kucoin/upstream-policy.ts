/**
 * When KuCoin counts as failing, and what the client does about it: circuit breakers per group of
 * endpoints that fail together, opened by outages only (never by KuCoin answering "no", nor by the
 * gateway's own refusals), and retries of reads within the request's deadline.
 */
import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy, type ExponentialBackoff, type IBackoff } from 'cockatiel';
import type { Logger } from 'pino';
import { GatewayError, type ErrorCode } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { EndpointName } from './endpoints.js';

/**
 * A call the gate (`admits`) refused: it never left the gateway. A 503 not-sent outage to code that
 * does not know it (so nothing retries it, reconciles it or keeps it as an order's outcome); the
 * HTTP edge answers it as the unknown route the switched-off surface is.
 */
export class UpstreamRefused extends GatewayError {
  constructor(context: string) {
    super('UPSTREAM_UNAVAILABLE', `KuCoin calls are switched off; ${context} was not sent.`, { notSent: true });
    this.name = 'UpstreamRefused';
    ownRefusals.add(this);
  }
}

/**
 * Circuit-breaker groups: KuCoin endpoints that fail together (one path family, one backend
 * service). A group's outage opens its own breaker only, so failing position reads do not stop
 * cancels, and failing market data does not stop orders.
 */
export type BreakerGroup = 'account' | 'order-reads' | 'order-writes' | 'margin' | 'market' | 'stream';

export const breakerGroups: Readonly<Record<EndpointName, BreakerGroup>> = {
  accountOverview: 'account',
  positions: 'account',
  position: 'account',
  listOrders: 'order-reads',
  getOrder: 'order-reads',
  getOrderByClientOid: 'order-reads',
  listDoneOrders: 'order-reads',
  placeOrder: 'order-writes',
  cancelOrder: 'order-writes',
  // Read and written around orders and position closes: kept apart from the account reads.
  getMarginMode: 'margin',
  changeMarginMode: 'margin',
  getCrossLeverage: 'margin',
  changeCrossLeverage: 'margin',
  riskLimitTiers: 'margin',
  changeRiskLimitLevel: 'margin',
  timestamp: 'market',
  fundingRate: 'market',
  contractsActive: 'market',
  contract: 'market',
  bulletPrivate: 'stream',
};

/** Failures that say KuCoin (or the way to it) is unwell, as opposed to it answering "no". */
const OUTAGE: ReadonlySet<ErrorCode> = new Set(['UPSTREAM_ERROR', 'UPSTREAM_TIMEOUT', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_BAD_RESPONSE']);
/** Refusals the gateway makes itself (the gate, a spent deadline): they say nothing about KuCoin's health. */
const ownRefusals = new WeakSet<GatewayError>();
const isOutage = (error: unknown): boolean => error instanceof GatewayError && OUTAGE.has(error.code) && !ownRefusals.has(error);

/** A refusal the gateway made itself (a spent deadline): it says nothing about KuCoin's health. */
export function markOwnRefusal(error: GatewayError): void {
  ownRefusals.add(error);
}

/** One breaker per group; each reports its state as a metric and a log line. */
export function createBreakers(
  breaker: { consecutiveFailures: number; halfOpenAfterMs: number },
  metrics: Metrics,
  logger: Logger,
): ReadonlyMap<BreakerGroup, CircuitBreakerPolicy> {
  const breakers = new Map<BreakerGroup, CircuitBreakerPolicy>();
  for (const group of new Set(Object.values(breakerGroups))) {
    const policy = circuitBreaker(handleWhen(isOutage), {
      halfOpenAfter: breaker.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(breaker.consecutiveFailures),
    });
    metrics.upstreamBreakerOpen.set({ group }, 0);
    policy.onStateChange((state) => {
      metrics.upstreamBreakerOpen.set({ group }, state === CircuitState.Open ? 1 : 0);
      logger.warn({ event: 'upstream_breaker', group, state: CircuitState[state] }, `KuCoin circuit breaker (${group}) ${CircuitState[state]}`);
    });
    breakers.set(group, policy);
  }
  return breakers;
}

export interface RetryPolicy {
  /** Tries in all (1 = no retry). */
  attempts: number;
  backoff: ExponentialBackoff<unknown>;
  now: () => number;
  /** One try's timeout (UPSTREAM_TIMEOUT_MS). */
  tryTimeoutMs: number;
  /** Epoch ms by which the request this read serves must be answered; undefined outside any request. */
  deadline: number | undefined;
}

/**
 * Up to `attempts` tries after outage failures, with jittered backoff. Inside a deadline a
 * retry is made only when its delay plus one full try timeout still fit: a try cut short by the
 * deadline would only turn a 504 now into the same 504 later.
 */
export async function retryOutages(tryOnce: () => Promise<unknown>, policy: RetryPolicy): Promise<unknown> {
  let backoff: IBackoff<unknown> | undefined;
  let failure: unknown;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await tryOnce();
    } catch (error) {
      // A retry refused by the breaker this read's own tries helped open: KuCoin's failure is
      // the truer answer (a 502 that reached KuCoin, not a 503 that sent nothing).
      if (error instanceof BrokenCircuitError && failure !== undefined) throw failure;
      failure = error;
      if (attempt >= policy.attempts || !isOutage(error)) throw error;
      backoff = backoff === undefined ? policy.backoff.next() : backoff.next(undefined);
      const delay = backoff.duration;
      if (policy.deadline !== undefined && policy.deadline - policy.now() < delay + policy.tryTimeoutMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
