import type { components } from '../../generated/openapi.js';
import { GatewayError } from '../http/errors.js';
import type { KucoinPosition } from '../kucoin/payloads.js';
import type { FuturesDeps } from './deps.js';
import { toPosition } from './mappers.js';

type Position = components['schemas']['Position'];

export async function listPositions(deps: FuturesDeps, currency: string | undefined): Promise<Position[]> {
  const raw = await deps.client.call<KucoinPosition[]>('positions', {
    query: { currency: currency?.toUpperCase() },
    context: 'listing positions',
  });
  const positions = Array.isArray(raw) ? raw : [];
  const contracts = await Promise.all(positions.map((p) => deps.catalog.forHeld(p.symbol)));
  return positions.map((p, i) => toPosition(p, contracts[i]!));
}

/**
 * kucoin-futures.md does not say what `GET /api/v1/position` answers for a symbol never traded;
 * a flat position object (currentQty 0) is passed on as `side: FLAT`, and an empty `data` is
 * taken to mean "no position" (404 POSITION_NOT_FOUND). Both are tested.
 */
export async function getPosition(deps: FuturesDeps, symbolInput: string): Promise<Position> {
  const contract = await deps.catalog.resolve(symbolInput);
  const raw = await deps.client.call<KucoinPosition | null>('position', { query: { symbol: contract.symbol }, context: `reading the ${contract.symbol} position` });
  if (raw === null || typeof raw !== 'object') {
    throw new GatewayError('POSITION_NOT_FOUND', `There is no ${contract.symbol} position.`);
  }
  return toPosition(raw, contract);
}
