/**
 * What the feed subscribes on KuCoin's private stream, and what it needs of the connection that
 * carries it (src/kucoin/stream/supervisor.ts). Topics: docs/kucoin.md, The private WebSocket.
 */
import type { RefusedTopic, UpstreamPush, UpstreamState } from '../kucoin/stream/supervisor.js';

/** What the feed (and the kill switch, gateway.ts) needs of src/kucoin/stream/supervisor.ts; a fake EventEmitter in tests. */
export interface UpstreamFeedSource {
  readonly state: UpstreamState;
  /** The wanted topics KuCoin refused on the current connection. */
  readonly refusedTopics: readonly RefusedTopic[];
  acquire(): void;
  release(): void;
  setTopics(topics: string[]): void;
  /** Whether KuCoin acked the topic on the current connection (UpstreamSupervisor.isSubscribed); absent in some test fakes. */
  isSubscribed?(topic: string): boolean;
  /** false: close as soon as nothing holds the connection, without lingering (futures are off). */
  lingerAfterRelease(linger: boolean): void;
  on(event: 'state', listener: (state: UpstreamState, reason?: string) => void): unknown;
  on(event: 'push', listener: (push: UpstreamPush) => void): unknown;
  on(event: 'resubscribed', listener: () => void): unknown;
  on(event: 'refused', listener: (topics: RefusedTopic[]) => void): unknown;
  off(event: 'state', listener: (state: UpstreamState, reason?: string) => void): unknown;
  off(event: 'push', listener: (push: UpstreamPush) => void): unknown;
  off(event: 'resubscribed', listener: () => void): unknown;
  off(event: 'refused', listener: (topics: RefusedTopic[]) => void): unknown;
}

/** The per-symbol instrument topic (mark price, funding rate). */
export const INSTRUMENT_TOPIC = '/contract/instrument';
export const ORDERS_TOPIC = '/contractMarket/tradeOrders';
/** openapi-futures-private.json "the margin mode change": subject `user.config`, data `{"ETHUSDTM":"ISOLATED"}`. */
export const MARGIN_MODE_TOPIC = '/contract/marginMode';
/** The account-wide private topics (docs/kucoin.md, The private WebSocket). */
export const ACCOUNT_TOPICS = ['/contract/positionAll', ORDERS_TOPIC, MARGIN_MODE_TOPIC] as const;
/** Funding settlement begin/end, one topic per watched symbol (see feed.ts). */
export const ANNOUNCEMENT_TOPIC = '/contract/announcement';

/**
 * The topics for the watched symbols and the topics held by operations waiting on a push: the
 * account topics, then one instrument and one announcement topic naming every watched symbol.
 */
export function feedTopics(watched: Iterable<string>, held: Iterable<string>): string[] {
  const symbols = [...watched].sort();
  // Comma-joined: the supervisor batches them at most 100 symbols to a subscribe message (topics.ts).
  const perSymbol = symbols.length > 0 ? [`${INSTRUMENT_TOPIC}:${symbols.join(',')}`, `${ANNOUNCEMENT_TOPIC}:${symbols.join(',')}`] : [];
  return [...ACCOUNT_TOPICS, ...perSymbol, ...[...held].sort()];
}
