/**
 * Client spellings of a futures symbol mapped to KuCoin's contract id (docs/kucoin.md, Fields and units:
 * KuCoin answers 100003 to `BTCUSDTM`). BTC↔XBT is the only rename. This is the syntactic half;
 * whether the contract exists is decided against `/api/v1/contracts/active`.
 */
const QUOTES = ['USDT', 'USDC', 'USD'] as const;

export function toKucoinSymbol(input: string): string | undefined {
  const s = input.trim().toUpperCase();
  // BTC-USDT, BTC/USDT, BTC/USDT:USDT, BTC/USD:BTC
  const unified = /^([A-Z0-9]{2,20})[-/]([A-Z0-9]{2,10})(?::([A-Z0-9]{2,10}))?$/.exec(s);
  if (unified) return contractId(unified[1]!, unified[2]!);
  // XBTUSDTM, BTCUSDTM, XBTUSDM, BTCUSDT
  const compact = /^([A-Z0-9]{2,20}?)(USDT|USDC|USD)(M?)$/.exec(s);
  if (compact) return contractId(compact[1]!, compact[2]!);
  return undefined;
}

function contractId(base: string, quote: string): string | undefined {
  if (!(QUOTES as readonly string[]).includes(quote)) return undefined;
  return `${base === 'BTC' ? 'XBT' : base}${quote}M`;
}

/** The base asset as users know it: KuCoin's `XBT` is `BTC`. */
export function toUserAsset(asset: string): string {
  return asset === 'XBT' ? 'BTC' : asset;
}

/**
 * A currency filter as KuCoin takes it: its root symbol, so `BTC` is `XBT` (the inverse contracts
 * settle in XBT, and Get Position List and Get Account Overview filter by that code; KuCoin's
 * Universal SDK spec, openapi-futures-positions.json / -account.json). A `BTC` sent as is matches
 * nothing: an empty position list while an XBT position is held. Upper-cased.
 */
export function toKucoinAsset(asset: string): string;
export function toKucoinAsset(asset: string | undefined): string | undefined;
export function toKucoinAsset(asset: string | undefined): string | undefined {
  if (asset === undefined) return undefined;
  const upper = asset.toUpperCase();
  return upper === 'BTC' ? 'XBT' : upper;
}
