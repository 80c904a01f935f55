/**
 * The frames KuCoin's Classic futures socket sends (docs/kucoin.md "The private WebSocket").
 * Pure parsing; the connection does the I/O.
 */
export interface PushFrame {
  topic: string;
  subject: string;
  data: unknown;
}

export type UpstreamFrame =
  | { type: 'welcome' | 'pong' | 'ack'; id: string | undefined }
  | { type: 'error'; id: string | undefined; code: number | undefined; message: string }
  | ({ type: 'message' } & PushFrame)
  /** `notice`, `command` and anything newer: nothing the gateway acts on. */
  | { type: 'other'; kind: string };

export function parseFrame(text: string): UpstreamFrame | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const frame = parsed as Record<string, unknown>;
  const id = typeof frame.id === 'string' || typeof frame.id === 'number' ? String(frame.id) : undefined;
  switch (frame.type) {
    case 'welcome':
    case 'pong':
    case 'ack':
      return { type: frame.type, id };
    case 'error': {
      const code = typeof frame.code === 'number' ? frame.code : typeof frame.code === 'string' && /^\d+$/.test(frame.code) ? Number(frame.code) : undefined;
      return { type: 'error', id, code, message: typeof frame.data === 'string' ? frame.data : JSON.stringify(frame.data ?? null) };
    }
    case 'message':
      // Older pushes leave `type` out (docs/kucoin.md "The private WebSocket"), handled below.
      break;
    default:
      if (typeof frame.type === 'string') return { type: 'other', kind: frame.type };
  }
  if (typeof frame.topic !== 'string' || typeof frame.subject !== 'string') return undefined;
  return { type: 'message', topic: frame.topic, subject: frame.subject, data: frame.data };
}

/**
 * When KuCoin stamped a push, in ms since the epoch: `data.ts` or `data.timestamp`, a number or a
 * numeric string in s, ms, µs or ns (docs/kucoin.md "The private WebSocket": order and settlement `ts` are ns, wallet `timestamp` a ms string).
 */
export function pushTimestampMs(data: unknown): number | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const record = data as { ts?: unknown; timestamp?: unknown };
  for (const raw of [record.ts, record.timestamp]) {
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
    if (!Number.isFinite(value) || value <= 0) continue;
    if (value >= 1e17) return value / 1e6;
    if (value >= 1e14) return value / 1e3;
    if (value >= 1e11) return value;
    return value * 1e3;
  }
  return undefined;
}
