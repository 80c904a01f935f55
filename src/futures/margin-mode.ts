import type { KucoinMarginModeResult } from '../kucoin/payloads.js';
import type { FuturesDeps } from './deps.js';

/** The symbol's margin mode as KuCoin reports it (`GET /api/v2/position/getMarginMode`, §3.5). */
export async function marginModeOf(deps: FuturesDeps, symbol: string): Promise<string | undefined> {
  const result = await deps.client.call<Partial<KucoinMarginModeResult> | null>('getMarginMode', { query: { symbol }, context: `reading the ${symbol} margin mode` });
  return result?.marginMode;
}
