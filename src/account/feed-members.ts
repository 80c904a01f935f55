/**
 * What the feed knows of each client and what it tells one client at a time (asyncapi.yaml): the
 * status of the upstream while the client waits, then its snapshots, after which it is live.
 */
import type { RefusedTopic } from '../kucoin/stream/supervisor.js';
import type { FeedCache } from './feed-cache.js';
import { refusedStatus, type FeedSubscriber } from './feed-messages.js';
import type { AccountSnapshotMessage } from './snapshot.js';

export interface Member {
  /** Has had its snapshots; gets live messages. */
  live: boolean;
  /** The last status other than `up` it was told, until it is told `up`. */
  told: 'down' | 'reconnecting' | undefined;
  /** Symbols whose funding snapshot (after a subscribe) is on its way: no live tick for them before it. */
  pendingFunding: Set<string>;
}

/** The client waits again, told why; funding snapshots on their way come with its next snapshots. */
export function tell(subscriber: FeedSubscriber, member: Member, status: 'down' | 'reconnecting', reason: string): void {
  member.live = false;
  member.told = status;
  member.pendingFunding.clear();
  subscriber.send({ type: 'upstream_status', status, reason });
}

/**
 * The client's snapshots, `up` first when it was told anything else (with the refused topics
 * when there are any); the caller sends no other message before the client is live.
 */
export function deliver(subscriber: FeedSubscriber, member: Member, snapshot: AccountSnapshotMessage, refused: readonly RefusedTopic[], cache: FeedCache): void {
  if (refused.length > 0) subscriber.send(refusedStatus(refused));
  else if (member.told !== undefined) subscriber.send({ type: 'upstream_status', status: 'up' });
  member.told = undefined;
  member.pendingFunding.clear();
  subscriber.send({ type: 'position_update', snapshot: true, data: snapshot.positions });
  subscriber.send({ type: 'order_update', snapshot: true, data: snapshot.orders });
  for (const symbol of subscriber.symbols) sendFundingSnapshot(subscriber, symbol, cache);
  member.live = true;
}

export function sendFundingSnapshot(subscriber: FeedSubscriber, symbol: string, cache: FeedCache): void {
  const funding = cache.funding.get(symbol);
  if (funding) subscriber.send({ type: 'funding_tick', snapshot: true, data: funding });
}
