/**
 * The simulator's account-setting pushes against KuCoin's published examples, and the gateway
 * reading them:
 * - `/contract/marginMode`, subject `user.config`, data `{"ETHUSDTM":"ISOLATED"}` and
 *   `/contract/crossLeverage`, subject `user.config`, data `{"ETHUSDTM":{"leverage":"8"}}`
 *   (Kucoin/kucoin-universal-sdk spec/ws/openapi-futures-private.json, x-response-example of
 *   "the margin mode change" and "the leverage change push");
 * - `position.adjustRiskLimit` `{success, riskLimitLevel, msg}` on `/contract/position:{symbol}`
 *   (Kucoin/kucoin-futures-api-docs, "Position Change Events"; the universal spec has no schema for it).
 */
import { describe, expect, it } from 'vitest';
import { RiskLimitWatch } from '../../src/futures/risk-limit-outcome.js';
import { SimEngine, type SimPush } from '../../src/simulator/engine/engine.js';
import { EventEmitter } from 'node:events';

function makeEngine() {
  const engine = new SimEngine({ seed: 1, now: () => 1_731_916_800_000, markIntervalMs: 1_000, fundingIntervalMs: 60_000 });
  const pushes: SimPush[] = [];
  engine.on('push', (push) => pushes.push(push));
  return { engine, pushes };
}

describe('account-setting pushes as KuCoin publishes them', () => {
  it('a margin-mode switch pushes {SYMBOL: mode} on /contract/marginMode, subject user.config', () => {
    const { engine, pushes } = makeEngine();
    engine.changeMarginMode({ symbol: 'ETHUSDTM', marginMode: 'CROSS' });
    expect(pushes).toEqual([{ topic: '/contract/marginMode', subject: 'user.config', data: { ETHUSDTM: 'CROSS' }, private: true }]);
  });

  it('a cross-leverage change pushes {SYMBOL: {leverage: "N"}} on /contract/crossLeverage, subject user.config', () => {
    const { engine, pushes } = makeEngine();
    engine.changeMarginMode({ symbol: 'ETHUSDTM', marginMode: 'CROSS' });
    pushes.length = 0;
    engine.changeCrossLeverage({ symbol: 'ETHUSDTM', leverage: '8' });
    expect(pushes[0]).toEqual({ topic: '/contract/crossLeverage', subject: 'user.config', data: { ETHUSDTM: { leverage: '8' } }, private: true });
  });

  it.each([
    [undefined, { success: true, riskLimitLevel: 3, msg: '' }],
    ['Insufficient balance', { success: false, riskLimitLevel: 1, msg: 'Insufficient balance' }],
  ])('a risk-limit level change (fail: %s) pushes position.adjustRiskLimit {success, riskLimitLevel, msg} on /contract/position:{symbol}, which the gateway reads', async (failWith, data) => {
    const { engine, pushes } = makeEngine();
    engine.riskLimitBehaviour = { delayMs: 0, ...(failWith === undefined ? {} : { failWith }) };
    const stream = new EventEmitter();
    const watch = new RiskLimitWatch({ symbol: 'XBTUSDTM', level: 3, pushes: stream, readLevel: async () => undefined, pollIntervalMs: 10_000, now: Date.now });
    engine.on('push', (push: SimPush) => stream.emit('push', { topic: push.topic, subject: push.subject, data: push.data, receivedAt: Date.now() }));
    engine.changeRiskLimitLevel({ symbol: 'XBTUSDTM', level: 3 });
    expect(pushes).toEqual([{ topic: '/contract/position:XBTUSDTM', subject: 'position.adjustRiskLimit', data, private: true }]);
    const outcome = await watch.outcome(Date.now() + 1_000);
    expect(outcome).toEqual(failWith === undefined ? { kind: 'changed', level: 3 } : { kind: 'failed', level: 1, message: failWith });
  });
});
