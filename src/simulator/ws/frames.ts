import type { SimPush } from './topics.js';

/** The simulated account's user id, carried by private pushes (docs/kucoin.md "The private WebSocket"). */
export const SIM_USER_ID = '5f1a5e00c0ffee0000051a1d';

/** KuCoin's subscription limits (docs/kucoin.md "Envelope, statuses and rate limits"; docs/kucoin.md "Error codes"). */
export const MAX_TOPICS_PER_MESSAGE = 100;
export const MAX_TOPICS_PER_SESSION = 300;
/** Uplink messages per window (docs/kucoin.md "The private WebSocket", OLD: 100 per 10 s). */
export const MAX_UPLINK_MESSAGES = 100;
export const UPLINK_WINDOW_MS = 10_000;

/**
 * Every error this socket sends, in one place: code and `data` text (docs/kucoin.md "The private WebSocket";
 * docs/kucoin.md "Error codes"). Where KuCoin's exact wording is not published, the text is the table's meaning.
 */
export const WsError = {
  pingTimeout: { code: 400, data: 'ping timeout' },
  tokenInvalid: { code: 401, data: 'token is invalid' },
  // The frame XChange#4740 and cryptofeed#1023 logged for a stale token.
  tokenExpired: { code: 401, data: 'token is expired' },
  loginRequired: { code: 403, data: 'login required' },
  topicNotFound: (topic: string) => ({ code: 404, data: `topic ${topic} is not found` }),
  topicRequired: { code: 406, data: 'topic required' },
  commandInvalid: { code: 415, data: 'command type invalid' },
  topicsPerMessage: { code: 509, data: `exceed max subscription count limitation of ${MAX_TOPICS_PER_MESSAGE} per time` },
  topicsPerSession: { code: 509, data: `exceed max subscription count limitation of ${MAX_TOPICS_PER_SESSION} per session` },
  uplinkFlood: { code: 509, data: 'exceed max permits per second' },
} as const;

export type WsErrorBody = { code: number; data: string };
export type FrameId = string | number;

export const welcomeFrame = (id: FrameId) => JSON.stringify({ id, type: 'welcome' });
export const pongFrame = (id: FrameId) => JSON.stringify({ id, type: 'pong' });
export const ackFrame = (id: FrameId) => JSON.stringify({ id, type: 'ack' });
export const errorFrame = (id: FrameId, error: WsErrorBody) => JSON.stringify({ id, type: 'error', code: error.code, data: error.data });

/** A push in the key order of KuCoin's examples (docs/kucoin.md "The private WebSocket"); private ones carry `userId` and `channelType`. */
export function messageFrame(push: SimPush): string {
  const { topic, subject, data } = push;
  return JSON.stringify(
    push.private
      ? { topic, type: 'message', subject, userId: SIM_USER_ID, channelType: 'private', data }
      : { topic, type: 'message', subject, data },
  );
}
