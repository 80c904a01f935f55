/**
 * Classic futures topics as the upstream socket subscribes them (docs/kucoin.md "The private WebSocket").
 * Pure functions.
 */

/** "exceed max subscription count limitation of 100 per time" / "… of 300 per session" (docs/kucoin.md "The private WebSocket", DOC-ERR). */
export const MAX_TOPICS_PER_MESSAGE = 100;
export const MAX_TOPICS_PER_CONNECTION = 300;

/** The topics that need `privateChannel: true` on a private-token connection (docs/kucoin.md "The private WebSocket", column Priv). */
const PRIVATE_PREFIXES: ReadonlySet<string> = new Set([
  '/contract/position',
  '/contract/positionAll',
  '/contractMarket/tradeOrders',
  '/contractAccount/wallet',
  '/contract/marginMode',
  '/contract/crossLeverage',
  '/contractMarket/advancedOrders',
]);

/** `/contract/instrument:XBTUSDTM` → `/contract/instrument`; the label for per-topic metrics. */
export function topicPrefix(topic: string): string {
  const colon = topic.indexOf(':');
  return colon < 0 ? topic : topic.slice(0, colon);
}

/** `/contract/announcement:XBTUSDTM` → `/contract/announcement:{symbol}`: a metric label that does not grow with the symbols. */
export function topicTemplate(topic: string): string {
  return topic.includes(':') ? `${topicPrefix(topic)}:{symbol}` : topic;
}

export function isPrivateTopic(topic: string): boolean {
  return PRIVATE_PREFIXES.has(topicPrefix(topic));
}

/**
 * One topic per symbol, without repeats: KuCoin counts a comma-joined topic as one subscription per
 * symbol (docs/kucoin.md "The private WebSocket"), so this is what its limits apply to.
 */
export function expandTopics(topics: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const topic of topics) {
    const colon = topic.indexOf(':');
    if (colon < 0) {
      out.add(topic);
      continue;
    }
    const prefix = topic.slice(0, colon);
    for (const symbol of topic.slice(colon + 1).split(',')) if (symbol !== '') out.add(`${prefix}:${symbol}`);
  }
  return [...out];
}

export interface TopicBatch {
  /** What goes in the message's `topic`: symbols of one prefix comma-joined. */
  topic: string;
  /** The single-symbol topics it stands for. */
  members: string[];
  private: boolean;
}

/**
 * The (un)subscribe messages for `topics`: symbols of one prefix comma-joined, at most
 * MAX_TOPICS_PER_MESSAGE to a message. Few messages matter: KuCoin allows 100 uplink messages per 10 s (docs/kucoin.md "Envelope, statuses and rate limits").
 */
export function batchTopics(topics: readonly string[]): TopicBatch[] {
  const byPrefix = new Map<string, string[]>();
  const batches: TopicBatch[] = [];
  for (const topic of topics) {
    const colon = topic.indexOf(':');
    if (colon < 0) {
      batches.push({ topic, members: [topic], private: isPrivateTopic(topic) });
      continue;
    }
    const prefix = topic.slice(0, colon);
    const members = byPrefix.get(prefix) ?? [];
    members.push(topic);
    byPrefix.set(prefix, members);
  }
  for (const [prefix, members] of byPrefix) {
    for (let start = 0; start < members.length; start += MAX_TOPICS_PER_MESSAGE) {
      const chunk = members.slice(start, start + MAX_TOPICS_PER_MESSAGE);
      const symbols = chunk.map((topic) => topic.slice(prefix.length + 1));
      batches.push({ topic: `${prefix}:${symbols.join(',')}`, members: chunk, private: isPrivateTopic(prefix) });
    }
  }
  return batches;
}
