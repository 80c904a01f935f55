import type { Context } from 'openapi-backend';
import type { Request, Response } from 'express';
import type { operations } from '../../../generated/openapi.js';
import { getAccount, getContract, getFundingRate, listContracts } from '../../futures/market.js';
import { setLeverage } from '../../futures/leverage.js';
import { cancelOrder, closePosition, createOrder, getOrder, listOrders } from '../../futures/orders.js';
import { getPosition, listPositions } from '../../futures/positions.js';
import type { FuturesServices } from '../../futures/services.js';
import type { AccountView, OrderListQuery, Served, WriteOutcome } from '../../account/account-view.js';
import type { RequestScope } from '../../request-scope.js';
import { sendData } from '../problem.js';

type Query<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;
type Body<Op extends keyof operations> = operations[Op] extends { requestBody: { content: { 'application/json': infer B } } } ? B : never;

const param = (c: Context, name: string): string => String((c.request.params as Record<string, string>)[name]);
const idempotencyKey = (c: Context): string | undefined => {
  const value = (c.request.headers as Record<string, string | undefined>)['idempotency-key'];
  return typeof value === 'string' ? value : undefined;
};

const upstream = async <T>(data: Promise<T>): Promise<Served<T>> => ({ data: await data, source: 'upstream' });

/**
 * A futures operation's handler: openapi-backend's context, the request and response, and the
 * request's scope (src/request-scope.ts), which app.ts makes once per request and hands to every
 * service call below, so each KuCoin call is charged to the caller and kept within its deadline.
 */
export type FuturesOperationHandler = (c: Context, req: Request, res: Response, scope: RequestScope) => Promise<void>;

/** Thin wrappers: the typed request in, a service call, the typed reply out; the rules live in src/futures/. */
/** `accountView`: the live account state serving the list reads and fencing the writes; none serves both from KuCoin. */
export function futuresOperationHandlers(services: FuturesServices, accountView?: AccountView): Record<string, FuturesOperationHandler> {
  const reply =
    (status: number, run: (c: Context, scope: RequestScope) => Promise<unknown>): FuturesOperationHandler =>
    async (c, _req, res, scope) => {
      const data = await run(c, scope);
      if (data && typeof data === 'object' && 'replayed' in data) res.setHeader('Idempotent-Replayed', String(data.replayed));
      sendData(res, status, data);
    };
  /** The two list reads: from the live feed when it is current (X-Served-From says which), else from KuCoin. */
  const list =
    <T>(run: (c: Context, scope: RequestScope, view: AccountView | undefined) => Promise<Served<T>>): FuturesOperationHandler =>
    async (c, _req, res, scope) => {
      const { data, source } = await run(c, scope, accountView);
      res.setHeader('X-Served-From', source);
      sendData(res, 200, data);
    };
  /** A write on the account, fenced so that reads after it see it (src/account/account-view.ts). */
  const write = <T>(run: () => Promise<T>, outcome: ((result: T) => WriteOutcome) | 'settings'): Promise<T> =>
    accountView ? accountView.write(run, outcome) : run();

  return {
    listPositions: list((c, scope, view) => {
      const { currency } = c.request.query as Query<'listPositions'>;
      return view ? view.listPositions(scope, currency) : upstream(listPositions(services, scope, currency));
    }),
    getPosition: reply(200, (c, scope) => getPosition(services, scope, param(c, 'symbol'))),
    closePosition: reply(200, (c, scope) =>
      write(
        () => closePosition(services, scope, param(c, 'symbol'), idempotencyKey(c)),
        (closed) => ({ kind: 'close', orderId: closed.orderId, symbol: closed.symbol }),
      ),
    ),
    // 202 when KuCoin has not reported the outcome of a risk-limit level change by the deadline.
    setLeverage: async (c, _req, res, scope) => {
      const { status, result } = await write(() => setLeverage(services, scope, c.request.requestBody as Body<'setLeverage'>), 'settings');
      sendData(res, status, result);
    },
    getFundingRate: reply(200, (c, scope) => getFundingRate(services, scope, param(c, 'symbol'))),
    createOrder: reply(201, (c, scope) =>
      write(
        () => createOrder(services, scope, c.request.requestBody as Body<'createOrder'>, idempotencyKey(c)),
        (placed) => ({ kind: 'order', orderId: placed.orderId, symbol: placed.symbol, type: placed.type }),
      ),
    ),
    listOrders: list((c, scope, view) => {
      const q = c.request.query as Record<string, string | undefined>;
      const query: OrderListQuery = {
        ...(q.symbol === undefined ? {} : { symbol: q.symbol }),
        ...(q.side === undefined ? {} : { side: q.side as 'BUY' | 'SELL' }),
        ...(q.page === undefined ? {} : { page: Number(q.page) }),
        ...(q.pageSize === undefined ? {} : { pageSize: Number(q.pageSize) }),
      };
      return view ? view.listOrders(scope, query) : upstream(listOrders(services, scope, query));
    }),
    getOrder: reply(200, (c, scope) => getOrder(services, scope, param(c, 'orderId'))),
    cancelOrder: reply(200, (c, scope) => write(() => cancelOrder(services, scope, param(c, 'orderId')), (cancelled) => ({ kind: 'cancel', orderIds: cancelled.cancelledOrderIds }))),
    getAccount: reply(200, (c, scope) => getAccount(services, scope, (c.request.query as Query<'getAccount'>).currency)),
    listContracts: reply(200, (_c, scope) => listContracts(services, scope)),
    getContract: reply(200, (c, scope) => getContract(services, scope, param(c, 'symbol'))),
  };
}
