import type { components } from '../../generated/openapi.js';
import type { KucoinAccountOverview, KucoinContract, KucoinFundingRate } from '../kucoin/payloads.js';
import { toKucoinAsset } from '../symbols.js';
import type { RequestScope } from '../request-scope.js';
import type { FuturesDeps } from './deps.js';
import { toAccount, toContract, toFundingRate } from './mappers.js';

type FundingRate = components['schemas']['FundingRate'];
type Contract = components['schemas']['Contract'];
type Account = components['schemas']['Account'];

export async function getFundingRate(deps: FuturesDeps, scope: RequestScope | null, symbolInput: string): Promise<FundingRate> {
  const contract = await deps.catalog.resolve(symbolInput, scope);
  const raw = await deps.client.call<KucoinFundingRate>('fundingRate', { params: { symbol: contract.symbol }, context: `reading the ${contract.symbol} funding rate`, scope });
  return toFundingRate(raw, contract);
}

/** From the cached list: sizing rules change rarely; market fields may be up to the cache's age old. */
export async function listContracts(deps: FuturesDeps, scope: RequestScope | null): Promise<Contract[]> {
  return (await deps.catalog.list(scope)).map(toContract);
}

/** One contract read fresh, so its market fields are current. */
export async function getContract(deps: FuturesDeps, scope: RequestScope | null, symbolInput: string): Promise<Contract> {
  const known = await deps.catalog.resolve(symbolInput, scope);
  const raw = await deps.client.call<KucoinContract>('contract', { params: { symbol: known.symbol }, context: `reading contract ${known.symbol}`, scope });
  return toContract(raw);
}

/** KuCoin defaults to the XBT account; our contract defaults to USDT (docs/kucoin.md "Fields and units"). */
export async function getAccount(deps: FuturesDeps, scope: RequestScope | null, currency: string | undefined): Promise<Account> {
  const raw = await deps.client.call<KucoinAccountOverview>('accountOverview', {
    query: { currency: toKucoinAsset(currency ?? 'USDT') },
    context: 'reading the account overview',
    scope,
  });
  return toAccount(raw);
}
