// Generated from openapi.yaml and asyncapi.yaml by `npm run gen` (scripts/gen.ts). Do not edit: change the contracts and regenerate.

/**
 * A typed client of the gateway. REST: openapi-fetch over the paths of openapi.yaml, so
 * `(await client.GET("/api/futures/positions")).data?.data` is a `Position[]` and `.error` the
 * problem of the statuses the operation documents. WebSocket `/ws/futures`: the message types of
 * asyncapi.yaml, and `parseServerMessage` for a received frame.
 */
import createClient, { type Client, type ClientOptions } from "openapi-fetch";
import type { paths } from "./openapi.js";
import type { ClientMessage, ServerMessage } from "./ws-messages.js";

export type { components, operations, paths } from "./openapi.js";
export type * from "./ws-messages.js";

export type GatewayClient = Client<paths>;

/** `baseUrl` is the gateway's origin (`http://127.0.0.1:3001`); pass `headers: { authorization: "Bearer <key>" }` when it has GATEWAY_API_KEYS. */
export function createGatewayClient(options: ClientOptions = {}): GatewayClient {
  return createClient<paths>(options);
}

/** The `type` of every message the gateway sends on `/ws/futures`. */
export const serverMessageTypes: readonly ServerMessage["type"][] = ["futures_connected","position_update","order_update","funding_tick","upstream_status","error","subscriptions","pong"];

const isServerMessageType = (type: unknown): type is ServerMessage["type"] => serverMessageTypes.some((known) => known === type);

/** Narrows a parsed frame to a server message by its `type`; the gateway's frames match asyncapi.yaml (checked in its tests). */
export function isServerMessage(value: unknown): value is ServerMessage {
  return typeof value === "object" && value !== null && "type" in value && isServerMessageType(value.type);
}

/** A text frame from `/ws/futures` as a server message; throws on anything else. */
export function parseServerMessage(text: string): ServerMessage {
  const value: unknown = JSON.parse(text);
  if (!isServerMessage(value)) throw new TypeError(`not a /ws/futures server message: ${text.slice(0, 200)}`);
  return value;
}

/** A client message as the text frame to send. */
export function clientMessageFrame(message: ClientMessage): string {
  return JSON.stringify(message);
}
