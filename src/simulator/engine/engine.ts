/**
 * The simulated KuCoin Futures account: deterministic under a seed and an
 * injectable clock, steppable by hand (`tick`) or on timers (`start`/`stop`). Every state change is
 * also emitted as a `'push'` event shaped like KuCoin's WS pushes (docs/kucoin.md "The private WebSocket"), which the
 * simulator's socket (src/simulator/ws/) routes to subscribers by topic.
 *
 * Pushes: `/contract/instrument:{symbol}` mark.index.price, funding.rate · `/contract/announcement`
 * funding.begin, funding.end · `/contract/position:{symbol}` position.change (full + changeReason,
 * or partial on a mark move), position.settlement, position.adjustRiskLimit ·
 * `/contractMarket/tradeOrders:{symbol}` symbolOrderChange and `/contractMarket/tradeOrders`
 * orderChange (both for each open/match/filled/canceled) · `/contractAccount/wallet`
 * walletBalance.change · `/contract/marginMode` and `/contract/crossLeverage` user.config.
 */
import { EventEmitter } from 'node:events';
import type {
  KucoinAccountOverview,
  KucoinContract,
  KucoinCrossLeverage,
  KucoinFundingRate,
  KucoinMarginModeResult,
  KucoinOrder,
  KucoinOrderPage,
  KucoinOrderPlaced,
  KucoinPosition,
  KucoinRiskLimitTier,
} from '../../kucoin/payloads.js';
import { changeCrossLeverage, changeMarginMode, changeRiskLimitLevel, crossLeverageOf, marginModeOf, type RiskLimitBehaviour } from './account-settings.js';
import { contractPayload } from './contract-payload.js';
import { EngineCore, type OrderQueryBehaviour, type SimPush } from './core.js';
import { refuse } from './errors.js';
import { fundingRatePayload, settleAllNow, settleDueFunding } from './funding.js';
import { setMark, walkMarks } from './market.js';
import { orderPayload } from './orders.js';
import { listOrders, type OrderQuery } from './order-list.js';
import type { AccountState } from './state.js';
import { cancelAll, cancelByClientOid, cancelOrder, placeOrder } from './trading.js';
import { overviewOf } from './wallet.js';

export type { OrderQueryBehaviour, SimPush } from './core.js';
export { SimError } from './errors.js';

export interface SimEngineOptions {
  seed: number;
  now?: () => number;
  markIntervalMs: number;
  fundingIntervalMs: number;
  /** Opening balances per settle currency; default USDT 10000 and XBT 1. */
  balances?: Record<string, number>;
  /** Which orders hold their clientOid, and how far the order queries lag (default: forever, no lag). */
  orderQueries?: OrderQueryBehaviour;
}

export const DEFAULT_BALANCES: Readonly<Record<string, number>> = { USDT: 10_000, XBT: 1 };

export class SimEngine extends EventEmitter<{ push: [SimPush] }> {
  readonly now: () => number;
  readonly #core: EngineCore;
  readonly #markIntervalMs: number;
  #markTimer: NodeJS.Timeout | undefined;
  #fundingTimer: NodeJS.Timeout | undefined;

  constructor(options: SimEngineOptions) {
    super();
    for (const name of ['markIntervalMs', 'fundingIntervalMs'] as const) {
      if (!(Number.isFinite(options[name]) && options[name] > 0)) throw new RangeError(`${name} must be a positive number, got ${options[name]}`);
    }
    this.now = options.now ?? Date.now;
    this.#markIntervalMs = options.markIntervalMs;
    this.#core = new EngineCore(
      {
        seed: options.seed,
        now: this.now,
        fundingIntervalMs: options.fundingIntervalMs,
        balances: { ...(options.balances ?? DEFAULT_BALANCES) },
        ...(options.orderQueries ? { orderQueries: { ...options.orderQueries } } : {}),
      },
      (push) => this.emit('push', push),
    );
  }

  get seed(): number {
    return this.#core.seed;
  }

  // --- time ---------------------------------------------------------------------------------

  /** One step: the marks move (filling what they cross), then any funding that is due settles. */
  tick(): void {
    walkMarks(this.#core);
    settleDueFunding(this.#core);
  }

  start(): void {
    if (this.#markTimer) return;
    this.#markTimer = setInterval(() => this.tick(), this.#markIntervalMs).unref();
    this.#scheduleFunding();
  }

  stop(): void {
    clearInterval(this.#markTimer);
    clearTimeout(this.#fundingTimer);
    this.#markTimer = undefined;
    this.#fundingTimer = undefined;
  }

  #scheduleFunding(): void {
    const next = Math.min(...Object.values(this.#core.state.funding).map((f) => f.fundingTime));
    this.#fundingTimer = setTimeout(() => {
      settleDueFunding(this.#core);
      this.#scheduleFunding();
    }, Math.max(0, next - this.now())).unref();
  }

  /** A fresh account under `seed` (the same one by default); listeners stay attached. */
  reset(seed = this.#core.seed): void {
    this.#core.reset(seed);
    this.riskLimitBehaviour = { delayMs: 0 };
    if (this.#fundingTimer) {
      clearTimeout(this.#fundingTimer);
      this.#scheduleFunding();
    }
  }

  // --- market -------------------------------------------------------------------------------

  contracts(): KucoinContract[] {
    return this.#core.specs.map((spec) => this.contract(spec.symbol));
  }

  contract(symbol: string): KucoinContract {
    const spec = this.#core.spec(symbol);
    const { state } = this.#core;
    return contractPayload(spec, state.markets[spec.symbol]!, state.funding[spec.symbol]!, this.#core.fundingIntervalMs, Math.abs(state.positions[spec.symbol]!.qty), this.now());
  }

  riskLimitTiers(symbol: string): KucoinRiskLimitTier[] {
    return this.#core.spec(symbol).tiers.map((tier) => ({ ...tier }));
  }

  fundingRate(symbol: string): KucoinFundingRate {
    return fundingRatePayload(this.#core, symbol);
  }

  /** `GET /api/v1/mark-price/{symbol}/current` (docs/kucoin.md "REST endpoints the gateway calls"). */
  markPrice(symbol: string): { symbol: string; granularity: number; timePoint: number; value: number; indexPrice: number } {
    const spec = this.#core.spec(symbol);
    const market = this.#core.market(spec.symbol);
    return { symbol: spec.symbol, granularity: 1000, timePoint: market.markedAt, value: market.markPrice, indexPrice: market.indexPrice };
  }

  setMark(symbol: string, price: number, hold = false): void {
    setMark(this.#core, symbol, price, hold);
  }

  settleFunding(): Array<{ symbol: string; fundingRate: number; fundingFee: number }> {
    return settleAllNow(this.#core);
  }

  // --- account ------------------------------------------------------------------------------

  /** The XBT account unless another currency is asked for (docs/kucoin.md "REST endpoints the gateway calls"). */
  accountOverview(currency = 'XBT'): KucoinAccountOverview {
    return overviewOf(this.#core.ledger(currency.toUpperCase()));
  }

  /** The position list: open positions, of one settle currency when given (docs/kucoin.md "REST endpoints the gateway calls"). */
  positions(currency?: string): KucoinPosition[] {
    return this.#core.specs
      .filter((spec) => this.#core.position(spec.symbol).qty !== 0 && (!currency || spec.settleCurrency === currency.toUpperCase()))
      .map((spec) => this.#core.positionPayload(spec.symbol));
  }

  /** One position: a symbol never traded answers a flat position (the shape of fixtures/position-flat.json) (docs/kucoin.md "REST endpoints the gateway calls"). */
  position(symbol: string | null): KucoinPosition {
    if (!symbol) throw refuse.invalidParam('symbol is required');
    return this.#core.positionPayload(this.#core.spec(symbol).symbol);
  }

  marginMode(symbol: string | null): KucoinMarginModeResult {
    return marginModeOf(this.#core, symbol);
  }

  changeMarginMode(body: Record<string, unknown>): KucoinMarginModeResult {
    return changeMarginMode(this.#core, body);
  }

  crossLeverage(symbol: string | null): KucoinCrossLeverage {
    return crossLeverageOf(this.#core, symbol);
  }

  changeCrossLeverage(body: Record<string, unknown>): boolean {
    return changeCrossLeverage(this.#core, body);
  }

  changeRiskLimitLevel(body: Record<string, unknown>): boolean {
    return changeRiskLimitLevel(this.#core, body, this.riskLimitBehaviour);
  }

  /** How later level changes settle (control API); `reset` restores the default, at once and successful. */
  riskLimitBehaviour: RiskLimitBehaviour = { delayMs: 0 };

  // --- orders -------------------------------------------------------------------------------

  placeOrder(body: unknown, options: { test?: boolean } = {}): KucoinOrderPlaced {
    return placeOrder(this.#core, body, options.test ?? false);
  }

  cancelOrder(orderId: string): { cancelledOrderIds: string[] } {
    return cancelOrder(this.#core, orderId);
  }

  cancelByClientOid(clientOid: string, symbol: string | null): { clientOid: string } {
    return cancelByClientOid(this.#core, clientOid, symbol);
  }

  cancelAll(symbol: string | null): { cancelledOrderIds: string[] } {
    return cancelAll(this.#core, symbol);
  }

  listOrders(query: OrderQuery): KucoinOrderPage {
    return listOrders(this.#core, query);
  }

  /** An unknown id is KuCoin's 100001 `error.getOrder.orderNotExist`, not an empty `data`. */
  order(orderId: string): KucoinOrder {
    const order = this.#core.state.orders.find((o) => o.id === orderId);
    if (!order) throw refuse.unknownOrder();
    return orderPayload(order, this.#core.spec(order.symbol));
  }

  /** The newest order holding `clientOid` that the query side has caught up with. */
  orderByClientOid(clientOid: string): KucoinOrder | null {
    const order = this.#core.state.orders.findLast((o) => o.clientOid === clientOid && this.#core.holdsClientOid(o));
    return order && this.#core.queryable(order) ? orderPayload(order, this.#core.spec(order.symbol)) : null;
  }

  get orderQueries(): OrderQueryBehaviour {
    return { ...this.#core.orderQueries };
  }

  /** Changes what the order queries see until the next reset (which restores the configured behaviour). */
  setOrderQueries(change: Partial<OrderQueryBehaviour>): OrderQueryBehaviour {
    if (change.clientOidScope !== undefined && change.clientOidScope !== 'forever' && change.clientOidScope !== 'active') {
      throw refuse.invalidParam('clientOidScope must be forever or active');
    }
    if (change.lookupLagMs !== undefined && !(Number.isSafeInteger(change.lookupLagMs) && change.lookupLagMs >= 0)) {
      throw refuse.invalidParam('lookupLagMs must be a whole number of ms, 0 or more');
    }
    Object.assign(this.#core.orderQueries, change);
    return this.orderQueries;
  }

  // --- inspection ---------------------------------------------------------------------------

  /** A deep copy of the raw state (for determinism checks and `GET /sim/state`). */
  snapshot(): { seed: number; now: number; state: AccountState } {
    return { seed: this.#core.seed, now: this.now(), state: structuredClone(this.#core.state) };
  }

  /** What `GET /sim/state` shows: the account as KuCoin would report it. */
  view(): Record<string, unknown> {
    const currencies = [...new Set(this.#core.specs.map((s) => s.settleCurrency))];
    const orders = this.#core.state.orders.map((o) => orderPayload(o, this.#core.spec(o.symbol)));
    return {
      seed: this.#core.seed,
      now: this.now(),
      accounts: Object.fromEntries(currencies.map((c) => [c, this.accountOverview(c)])),
      positions: this.positions(),
      orders: { active: orders.filter((o) => o.isActive), done: orders.filter((o) => !o.isActive) },
      markets: Object.fromEntries(this.#core.specs.map((s) => [s.symbol, { ...this.#core.market(s.symbol) }])),
      funding: Object.fromEntries(this.#core.specs.map((s) => [s.symbol, this.fundingRate(s.symbol)])),
      settings: structuredClone(this.#core.state.settings),
      orderQueries: this.orderQueries,
      fundingHistory: structuredClone(this.#core.state.fundingHistory),
    };
  }
}
