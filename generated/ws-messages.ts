// Generated from asyncapi.yaml by `npm run gen` (scripts/gen.ts). Do not edit: change asyncapi.yaml and regenerate.

import type { components } from "./openapi.js";

export type Timestamp = components["schemas"]["Timestamp"];
export type Position = components["schemas"]["Position"];
export type Order = components["schemas"]["Order"];
export type FundingRate = components["schemas"]["FundingRate"];
export type SymbolInput = components["schemas"]["SymbolInput"];

export type WsMessage = ServerMessage | ClientMessage;
export type ServerMessage =
  | FuturesConnectedMessage
  | PositionUpdateMessage
  | OrderUpdateMessage
  | FundingTickMessage
  | UpstreamStatusMessage
  | ErrorMessage
  | SubscriptionsMessage
  | PongMessage;
/**
 * Per-connection sequence number of server messages: 1 for `futures_connected`, then +1 for
 * every message the server sends on this connection. A jump means messages were missed.
 */
export type Seq = number;
/**
 * `true` for a snapshot (on connect, after a subscribe and after the upstream recovers): it
 * replaces what the client holds. `false` for a live change.
 */
export type Snapshot = boolean;
/**
 * A client-chosen id that the server echoes in its answer.
 */
export type RequestId = string;
export type ClientMessage = SubscribeMessage | UnsubscribeMessage | PingMessage;

/**
 * The first message on every connection.
 */
export interface FuturesConnectedMessage {
  type: "futures_connected";
  message: "Connected to futures channel";
  /**
   * Identifies the connection in the gateway's logs.
   */
  connectionId: string;
  /**
   * The symbols this connection watches (KuCoin ids); `funding_tick` is sent for each.
   */
  symbols: components["schemas"]["Symbol"][];
  /**
   * Interval of the server's ping frames; a client that misses one is terminated.
   */
  heartbeatIntervalMs: number;
  timestamp: Timestamp;
  seq: Seq;
}
/**
 * The open positions on connect, then each change.
 */
export interface PositionUpdateMessage {
  type: "position_update";
  snapshot: Snapshot;
  data: Position[];
  /**
   * Why the position changed (live changes only): KuCoin's `changeReason`, e.g.
   * `positionChange`, `marginChange`, `liquidation`, `adl`; `settlement` after a funding
   * settlement; `markPrice` for the mark-price refreshes KuCoin pushes without a reason.
   */
  reason?: string;
  timestamp: Timestamp;
  seq: Seq;
}
/**
 * The open orders on connect, then each change.
 */
export interface OrderUpdateMessage {
  type: "order_update";
  snapshot: Snapshot;
  data: Order[];
  /**
   * Live changes only (KuCoin `orderChange` type): `open` the order rests on the book,
   * `match` it was partly filled, `update` its size was changed, `filled` it is done with
   * everything filled, `canceled` it is done otherwise.
   */
  event?: "open" | "match" | "update" | "filled" | "canceled";
  timestamp: Timestamp;
  seq: Seq;
}
/**
 * The funding rate of a watched symbol on connect, then its changes.
 */
export interface FundingTickMessage {
  type: "funding_tick";
  snapshot: Snapshot;
  data: FundingRate;
  /**
   * Live changes only: `rate` a new current or predicted rate (KuCoin `funding.rate`),
   * `begin`/`end` the settlement window opens/closes (KuCoin `funding.begin`/`funding.end`),
   * `settlement` funding was settled at `data.rate`.
   */
  event?: "rate" | "begin" | "end" | "settlement";
  timestamp: Timestamp;
  seq: Seq;
}
/**
 * The shared upstream KuCoin connection changed state.
 */
export interface UpstreamStatusMessage {
  type: "upstream_status";
  status: "up" | "down" | "reconnecting";
  /**
   * Human-readable cause, for logs; not a stable code.
   */
  reason?: string;
  /**
   * With `up`, the upstream KuCoin topics KuCoin refused to subscribe; their events do not arrive. Left out when there are none, except in the message that says the last refusal is over (an empty list).
   */
  refusedTopics?: {
    /**
     * The KuCoin topic, e.g. `/contract/announcement:XBTUSDTM`.
     */
    topic: string;
    /**
     * KuCoin's answer (its error code and text); for logs, not a stable code.
     */
    reason: string;
  }[];
  /**
   * With `reconnecting`, the delay before the next attempt, when the gateway knows it. This build does not send it yet; clients must not rely on it.
   */
  retryInMs?: number;
  timestamp: Timestamp;
  seq: Seq;
}
/**
 * A client message was invalid or refused; the connection stays open.
 */
export interface ErrorMessage {
  type: "error";
  code: "INVALID_MESSAGE" | "UNKNOWN_TYPE" | "UNKNOWN_SYMBOL" | "TOO_MANY_SYMBOLS" | "RATE_LIMITED" | "INTERNAL_ERROR";
  message: string;
  requestId?: RequestId;
  timestamp: Timestamp;
  seq: Seq;
}
/**
 * The answer to `subscribe` and `unsubscribe`.
 */
export interface SubscriptionsMessage {
  type: "subscriptions";
  symbols: components["schemas"]["Symbol"][];
  requestId?: RequestId;
  timestamp: Timestamp;
  seq: Seq;
}
/**
 * The answer to `ping`.
 */
export interface PongMessage {
  type: "pong";
  requestId?: RequestId;
  timestamp: Timestamp;
  seq: Seq;
}
/**
 * Watch more symbols.
 */
export interface SubscribeMessage {
  type: "subscribe";
  /**
   * @minItems 1
   * @maxItems 50
   */
  symbols: SymbolInput[];
  id?: RequestId;
}
/**
 * Watch fewer symbols.
 */
export interface UnsubscribeMessage {
  type: "unsubscribe";
  /**
   * @minItems 1
   * @maxItems 50
   */
  symbols: SymbolInput[];
  id?: RequestId;
}
/**
 * An application-level ping, answered with `pong`.
 */
export interface PingMessage {
  type: "ping";
  id?: RequestId;
}

export type ServerMessageType = ServerMessage["type"];
export type ClientMessageType = ClientMessage["type"];
