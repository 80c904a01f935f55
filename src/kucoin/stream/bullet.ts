import type { CallOptions } from '../client.js';

/** What the supervisor needs of KucoinClient; a KucoinClient is one. */
export interface BulletSource {
  call(name: 'bulletPrivate', options: CallOptions): Promise<unknown>;
}

/** One connection's worth of bullet-private answer (docs/kucoin.md "The private WebSocket"). */
export interface Bullet {
  /** A secret: it is never logged, and the URL that carries it neither. */
  token: string;
  endpoint: string;
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

/** KuCoin's answer did not have the documented shape (docs/kucoin.md "The private WebSocket"). */
export class BulletAnswerInvalid extends Error {
  override readonly name = 'BulletAnswerInvalid';
}

/**
 * A fresh private token and one of its servers. KuCoin says the endpoint may change and U-WS picks
 * one at random (docs/kucoin.md "The private WebSocket"), hence `random`. Errors of the client (GatewayError) pass through.
 */
export async function fetchBullet(client: BulletSource, random: () => number): Promise<Bullet> {
  const answer = (await client.call('bulletPrivate', { context: 'opening the KuCoin private WebSocket', scope: null })) as {
    token?: unknown;
    instanceServers?: unknown;
  } | null;
  const token = answer?.token;
  if (typeof token !== 'string' || token === '') throw new BulletAnswerInvalid('bullet-private answered without a token');
  const servers = (Array.isArray(answer?.instanceServers) ? answer.instanceServers : []).filter(isServer);
  if (servers.length === 0) throw new BulletAnswerInvalid('bullet-private answered without a ws:// or wss:// instance server');
  const server = servers[Math.min(servers.length - 1, Math.floor(random() * servers.length))]!;
  return { token, endpoint: server.endpoint, pingIntervalMs: server.pingInterval, pingTimeoutMs: server.pingTimeout };
}

function isServer(value: unknown): value is { endpoint: string; pingInterval: number; pingTimeout: number } {
  const server = value as { endpoint?: unknown; pingInterval?: unknown; pingTimeout?: unknown } | null;
  return (
    typeof server?.endpoint === 'string' &&
    /^wss?:\/\//.test(server.endpoint) &&
    typeof server.pingInterval === 'number' &&
    server.pingInterval > 0 &&
    typeof server.pingTimeout === 'number' &&
    server.pingTimeout > 0
  );
}

/** `${endpoint}?token=…&connectId=…` (docs/kucoin.md "The private WebSocket"). */
export function connectUrl(bullet: Bullet, connectId: string): string {
  const url = new URL(bullet.endpoint);
  url.searchParams.set('token', bullet.token);
  url.searchParams.set('connectId', connectId);
  return url.toString();
}
