import type { Context, Handler } from 'openapi-backend';
import type { Request, Response } from 'express';
import type { operations } from '../../../generated/openapi.js';
import { getAccount, getContract, getFundingRate, listContracts } from '../../futures/market.js';
import { setLeverage } from '../../futures/leverage.js';
import { cancelOrder, closePosition, createOrder, getOrder, listOrders } from '../../futures/orders.js';
import { getPosition, listPositions } from '../../futures/positions.js';
import type { FuturesServices } from '../../futures/services.js';
import { sendData } from '../problem.js';

type Query<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;
type Body<Op extends keyof operations> = operations[Op] extends { requestBody: { content: { 'application/json': infer B } } } ? B : never;

const param = (c: Context, name: string): string => String((c.request.params as Record<string, string>)[name]);
const idempotencyKey = (c: Context): string | undefined => {
  const value = (c.request.headers as Record<string, string | undefined>)['idempotency-key'];
  return typeof value === 'string' ? value : undefined;
};

/** Thin wrappers: the typed request in, a service call, the typed reply out (style.md). */
export function futuresOperationHandlers(services: FuturesServices): Record<string, Handler> {
  const reply =
    (status: number, run: (c: Context) => Promise<unknown>): Handler =>
    async (c: Context, _req: Request, res: Response) => {
      const data = await run(c);
      if (data && typeof data === 'object' && 'replayed' in data) res.setHeader('Idempotent-Replayed', String(data.replayed));
      sendData(res, status, data);
    };

  return {
    listPositions: reply(200, (c) => listPositions(services, (c.request.query as Query<'listPositions'>).currency)),
    getPosition: reply(200, (c) => getPosition(services, param(c, 'symbol'))),
    closePosition: reply(200, (c) => closePosition(services, param(c, 'symbol'), idempotencyKey(c))),
    setLeverage: reply(200, (c) => setLeverage(services, c.request.requestBody as Body<'setLeverage'>)),
    getFundingRate: reply(200, (c) => getFundingRate(services, param(c, 'symbol'))),
    createOrder: reply(201, (c) => createOrder(services, c.request.requestBody as Body<'createOrder'>, idempotencyKey(c))),
    listOrders: reply(200, (c) => {
      const q = c.request.query as Record<string, string | undefined>;
      return listOrders(services, {
        ...(q.symbol === undefined ? {} : { symbol: q.symbol }),
        ...(q.side === undefined ? {} : { side: q.side as 'BUY' | 'SELL' }),
        ...(q.page === undefined ? {} : { page: Number(q.page) }),
        ...(q.pageSize === undefined ? {} : { pageSize: Number(q.pageSize) }),
      });
    }),
    getOrder: reply(200, (c) => getOrder(services, param(c, 'orderId'))),
    cancelOrder: reply(200, (c) => cancelOrder(services, param(c, 'orderId'))),
    getAccount: reply(200, (c) => getAccount(services, (c.request.query as Query<'getAccount'>).currency)),
    listContracts: reply(200, () => listContracts(services)),
    getContract: reply(200, (c) => getContract(services, param(c, 'symbol'))),
  };
}
