/**
 * Every business refusal of the simulated account, with KuCoin's code (docs/kucoin.md "Error codes").
 * Business errors travel as HTTP 200 with `{"code","msg"}` (docs/kucoin.md "Envelope, statuses and rate limits"). Where the doc gives KuCoin's
 * wording the text is that; otherwise it is the table's meaning (the fixtures' README says the same).
 */
import { decimalString } from './numbers.js';

export class SimError extends Error {
  override name = 'SimError';
  readonly code: string;

  constructor(code: string, msg: string) {
    super(msg);
    this.code = code;
  }
}

export const refuse = {
  invalidParam: (what: string) => new SimError('100001', what),
  unknownContract: () => new SimError('100003', 'Contract parameter invalid'),
  notCancelable: (why = 'Order not cancelable') => new SimError('100004', why),
  // KuCoin's answer to a read or cancel of an order id it does not know (reported in ccxt/ccxt#10605).
  unknownOrder: () => new SimError('100001', 'error.getOrder.orderNotExist'),
  paramIllegal: (what: string) => new SimError('300000', what),
  activeOrderLimit: () => new SimError('300001', 'Active order count limit exceeded'),
  balance: () => new SimError('300003', 'Balance not enough'),
  riskLimit: () => new SimError('300005', 'Risk limit exceeded'),
  nothingToClose: () => new SimError('300009', 'Position size 0, cannot close'),
  priceTooHigh: (max: number) => new SimError('300011', `Price is above the allowed maximum ${decimalString(max, 8)}`),
  priceTooLow: (min: number) => new SimError('300012', `Price is below the allowed minimum ${decimalString(min, 8)}`),
  leverage: (max: number) => new SimError('300016', `Leverage is greater than the allowed maximum ${max}`),
  duplicateClientOid: () => new SimError('300018', 'clientOid repeated'),
  marginModeMismatch: () => new SimError('330005', "The order's margin mode does not match the selected one"),
  // The batch example's exact pair (docs/kucoin.md "REST endpoints the gateway calls").
  marginModeBlocked: () => new SimError('50002', 'exist.order.or.position'),
} as const;
