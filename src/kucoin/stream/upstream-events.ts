/**
 * What consumers of the KuCoin private stream see of it (UpstreamSupervisor's surface): its
 * states, the pushes it delivers, and its events.
 */
import type { RefusedTopic } from './subscriptions.js';

export type UpstreamState = 'idle' | 'connecting' | 'up' | 'reconnecting' | 'closed';

export interface UpstreamPush {
  topic: string;
  subject: string;
  data: unknown;
  receivedAt: number;
}

export interface UpstreamSupervisorEvents {
  state: [state: UpstreamState, reason?: string];
  push: [push: UpstreamPush];
  /** After every connection that becomes the push source has all topics acked: consumers re-snapshot over REST. */
  resubscribed: [];
  /** The wanted topics KuCoin refused on the connection that is the source changed; [] once none is. */
  refused: [topics: RefusedTopic[]];
}
