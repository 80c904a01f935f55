/**
 * The engine's shared state and the helpers every part of it uses: look-ups that refuse an unknown
 * contract with 100003, deterministic ids, and the pushes, shaped as docs/kucoin.md "The private WebSocket" shows them.
 */
import type { KucoinPosition } from '../../kucoin/payloads.js';
import { CONTRACT_SPECS, type ContractSpec } from './contracts.js';
import { refuse } from './errors.js';
import { orderChangePayload, type MatchDetails, type OrderEvent } from './orders.js';
import { flatPosition, positionPayload } from './positions.js';
import { SeededRandom } from './random.js';
import type { AccountState, MarketState, OrderState, PositionState, SymbolSettings } from './state.js';
import { ledgerOf, walletPushPayload, type Ledger } from './wallet.js';

/** One WS push; the socket adds `type`, `userId` and `channelType` (docs/kucoin.md "The private WebSocket"). */
export interface SimPush {
  topic: string;
  subject: string;
  data: unknown;
  private: boolean;
}

export interface EngineSettings {
  seed: number;
  now: () => number;
  fundingIntervalMs: number;
  /** Opening balances per settle currency. */
  balances: Record<string, number>;
  /** What the order queries see; changeable while running (the control API). */
  orderQueries?: OrderQueryBehaviour;
}

/** See `ClientOidScope` in ../config.ts. `lookupLagMs`: KuCoin's query side can trail its matching engine. */
export interface OrderQueryBehaviour {
  clientOidScope: 'forever' | 'active';
  lookupLagMs: number;
}

export const DEFAULT_ORDER_QUERIES: Readonly<OrderQueryBehaviour> = { clientOidScope: 'forever', lookupLagMs: 0 };

/** KuCoin's default cross leverage is not documented; the simulator starts every symbol at 5 (its own choice). */
export const DEFAULT_CROSS_LEVERAGE = 5;

const pad = (prefix: string, n: number) => `${prefix}${String(n).padStart(17, '0')}`;

export function initialState(settings: EngineSettings, specs: readonly ContractSpec[]): AccountState {
  const now = settings.now();
  // Funding settles on a grid of the interval, as KuCoin settles on the 8 h grid (docs/kucoin.md "REST endpoints the gateway calls").
  const next = Math.floor(now / settings.fundingIntervalMs) * settings.fundingIntervalMs + settings.fundingIntervalMs;
  const state: AccountState = {
    wallet: { ...settings.balances },
    settings: {},
    positions: {},
    markets: {},
    funding: {},
    orders: [],
    fundingHistory: [],
    seq: { order: 0, trade: 0, funding: 0, wallet: 0 },
  };
  specs.forEach((spec, i) => {
    const symbolSettings: SymbolSettings = { marginMode: 'ISOLATED', crossLeverage: DEFAULT_CROSS_LEVERAGE, riskLimitLevel: 1 };
    state.settings[spec.symbol] = symbolSettings;
    state.positions[spec.symbol] = flatPosition(pad('5', i + 1), spec.symbol, symbolSettings, now);
    state.markets[spec.symbol] = { markPrice: spec.startPrice, indexPrice: spec.startPrice, held: false, markedAt: now };
    state.funding[spec.symbol] = {
      value: spec.startFundingRate,
      predictedValue: spec.startFundingRate,
      timePoint: next - settings.fundingIntervalMs,
      fundingTime: next,
    };
  });
  return state;
}

export class EngineCore {
  state: AccountState;
  random: SeededRandom;
  readonly specs: readonly ContractSpec[] = CONTRACT_SPECS;
  readonly #settings: EngineSettings;
  readonly #emit: (push: SimPush) => void;
  orderQueries: OrderQueryBehaviour;

  constructor(settings: EngineSettings, emit: (push: SimPush) => void) {
    this.#settings = settings;
    this.#emit = emit;
    this.orderQueries = { ...(settings.orderQueries ?? DEFAULT_ORDER_QUERIES) };
    this.random = new SeededRandom(settings.seed);
    this.state = initialState(settings, this.specs);
  }

  get fundingIntervalMs(): number {
    return this.#settings.fundingIntervalMs;
  }

  now(): number {
    return this.#settings.now();
  }

  reset(seed: number): void {
    this.#settings.seed = seed;
    this.random = new SeededRandom(seed);
    this.state = initialState(this.#settings, this.specs);
    this.orderQueries = { ...(this.#settings.orderQueries ?? DEFAULT_ORDER_QUERIES) };
  }

  /** Whether `order` still holds its clientOid: a reuse is refused (300018) and the lookup by clientOid finds it. */
  holdsClientOid(order: OrderState): boolean {
    return this.orderQueries.clientOidScope === 'forever' || order.status === 'open';
  }

  /** Whether the query side has caught up with the order's last change (placement, or its end). */
  queryable(order: OrderState): boolean {
    return this.now() >= (order.endAt ?? order.createdAt) + this.orderQueries.lookupLagMs;
  }

  get seed(): number {
    return this.#settings.seed;
  }

  /** An unknown symbol is 100003 "Contract parameter invalid" (docs/kucoin.md "Error codes"). */
  spec(symbol: unknown): ContractSpec {
    const spec = this.specs.find((s) => s.symbol === symbol);
    if (!spec) throw refuse.unknownContract();
    return spec;
  }

  settings(symbol: string): SymbolSettings {
    return this.state.settings[symbol]!;
  }

  position(symbol: string): PositionState {
    return this.state.positions[symbol]!;
  }

  market(symbol: string): MarketState {
    return this.state.markets[symbol]!;
  }

  nextOrderId(): string {
    return pad('3', ++this.state.seq.order);
  }

  nextTradeId(): string {
    return pad('7', ++this.state.seq.trade);
  }

  ledger(currency: string): Ledger {
    return ledgerOf(this.state, this.specs, currency);
  }

  positionPayload(symbol: string): KucoinPosition {
    const spec = this.spec(symbol);
    const available = this.ledger(spec.settleCurrency).availableBalance;
    return positionPayload(this.position(symbol), spec, this.settings(symbol), this.market(symbol), available, this.now());
  }

  push(topic: string, subject: string, data: unknown, isPrivate: boolean): void {
    this.#emit({ topic, subject, data, private: isPrivate });
  }

  /** Each order event on both order topics, `symbolOrderChange` and `orderChange`, same data (docs/kucoin.md "The private WebSocket"). */
  pushOrder(order: OrderState, type: OrderEvent, match?: MatchDetails): void {
    const data = orderChangePayload(order, type, this.now(), match);
    this.push(`/contractMarket/tradeOrders:${order.symbol}`, 'symbolOrderChange', data, true);
    this.push('/contractMarket/tradeOrders', 'orderChange', { ...data }, true);
  }

  /** The full REST position object plus `changeReason` (docs/kucoin.md "The private WebSocket"). */
  pushPosition(symbol: string, changeReason: 'positionChange' | 'marginChange'): void {
    this.push(`/contract/position:${symbol}`, 'position.change', { ...this.positionPayload(symbol), changeReason }, true);
  }

  pushWallet(currency: string): void {
    const version = ++this.state.seq.wallet;
    this.push('/contractAccount/wallet', 'walletBalance.change', walletPushPayload(this.ledger(currency), version, this.now()), true);
  }
}
