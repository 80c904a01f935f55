/**
 * The messages the live feed hands to each client socket (asyncapi.yaml), before the socket stamps
 * them, how the state of the KuCoin stream is told in them, and how a failure is described in logs.
 */
import type { FundingTickMessage, OrderUpdateMessage, PositionUpdateMessage, UpstreamStatusMessage } from '../../generated/ws-messages.js';
import { GatewayError } from '../errors.js';
import { UpstreamShapeError } from '../futures/payload-fields.js';
import type { RefusedTopic } from '../kucoin/stream/supervisor.js';

type Unstamped<T> = Omit<T, 'timestamp' | 'seq'>;
/** A message of the feed; the socket stamps `timestamp` and `seq`. */
export type FeedMessage = Unstamped<PositionUpdateMessage> | Unstamped<OrderUpdateMessage> | Unstamped<FundingTickMessage> | Unstamped<UpstreamStatusMessage>;

/** One client connection as the feed sees it. */
export interface FeedSubscriber {
  /** The symbols it watches now. */
  readonly symbols: ReadonlySet<string>;
  send(message: FeedMessage): void;
}

export function refusedStatus(topics: readonly RefusedTopic[]): FeedMessage {
  return {
    type: 'upstream_status',
    status: 'up',
    ...(topics.length > 0 ? { reason: `KuCoin refused ${topics.length === 1 ? 'a topic' : `${topics.length} topics`}; their events do not arrive` } : {}),
    refusedTopics: topics.map(({ topic, code, message }) => ({ topic, reason: code === undefined ? message : `${code}: ${message}` })),
  };
}

/** The supervisor's reasons are codes (`dropped`, `pong_timeout`...); clients get a sentence. */
export function reasonText(reason: string | undefined): string {
  return reason === undefined ? 'the KuCoin WebSocket is unavailable' : `KuCoin WebSocket: ${reason.replaceAll('_', ' ')}`;
}

/** A failure as the feed logs it: message and, where it has one, the catalogue code. */
export function errorInfo(error: unknown): { message: string; code?: string } {
  if (error instanceof GatewayError) return { message: error.message, code: error.code };
  if (error instanceof UpstreamShapeError) return { message: error.message, code: error.code };
  return { message: error instanceof Error ? error.message : String(error) };
}
