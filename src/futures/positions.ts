import type { components } from '../../generated/openapi.js';
import { GatewayError } from '../errors.js';
import type { KucoinContract, KucoinPosition } from '../kucoin/payloads.js';
import { toKucoinAsset } from '../symbols.js';
import type { RequestScope } from '../request-scope.js';
import type { FuturesDeps } from './deps.js';
import { positionListOrder, toPosition } from './mappers.js';

type Position = components['schemas']['Position'];

export interface HeldPositions {
  /** Raw (docs/kucoin.md "REST endpoints the gateway calls"), so the live feed can merge KuCoin's partial mark-price pushes into them. */
  positions: KucoinPosition[];
  /** The contract of every position's symbol, read once per symbol. */
  contracts: Map<string, KucoinContract>;
}

/**
 * `GET /api/v1/positions` with each position's contract. A `data` that is not a list is KuCoin's
 * shape problem (502): answering "no positions" to it would tell a trader something false.
 */
export async function readHeldPositions(deps: FuturesDeps, scope: RequestScope | null, currency: string | undefined, context: string): Promise<HeldPositions> {
  const positions = await deps.client.call<KucoinPosition[]>('positions', { query: { currency: toKucoinAsset(currency) }, context, scope });
  if (!Array.isArray(positions)) throw new GatewayError('UPSTREAM_BAD_RESPONSE', 'KuCoin sent a position list that is not a list.');
  return { positions, contracts: await deps.catalog.forHeldAll(positions.map((p) => p.symbol), scope) };
}

export async function listPositions(deps: FuturesDeps, scope: RequestScope | null, currency: string | undefined): Promise<Position[]> {
  const { positions, contracts } = await readHeldPositions(deps, scope, currency, 'listing positions');
  return positions.map((p) => toPosition(p, contracts.get(p.symbol)!)).sort(positionListOrder);
}

/**
 * KuCoin's docs do not say what `GET /api/v1/position` answers for a symbol never traded;
 * a flat position object (currentQty 0) is passed on as `side: FLAT`, and an empty `data` is
 * taken to mean "no position" (404 POSITION_NOT_FOUND). Both are tested.
 */
export async function getPosition(deps: FuturesDeps, scope: RequestScope | null, symbolInput: string): Promise<Position> {
  const contract = await deps.catalog.resolve(symbolInput, scope);
  const raw = await deps.client.call<KucoinPosition | null>('position', { query: { symbol: contract.symbol }, context: `reading the ${contract.symbol} position`, scope });
  if (raw === null || typeof raw !== 'object') {
    throw new GatewayError('POSITION_NOT_FOUND', `There is no ${contract.symbol} position.`);
  }
  return toPosition(raw, contract);
}
