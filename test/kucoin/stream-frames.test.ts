import { describe, expect, it } from 'vitest';
import { parseFrame, pushTimestampMs } from '../../src/kucoin/stream/frames.js';

describe('parsing KuCoin frames (docs/kucoin.md "The private WebSocket")', () => {
  it.each([
    ['welcome', '{"id":"c1","type":"welcome"}', { type: 'welcome', id: 'c1' }],
    ['pong with a numeric id', '{"id":1545910590801,"type":"pong"}', { type: 'pong', id: '1545910590801' }],
    ['ack', '{"id":"s1","type":"ack"}', { type: 'ack', id: 's1' }],
    ['error', '{"id":"s1","type":"error","code":404,"data":"topic /futuresTrade/orders is not found"}', { type: 'error', id: 's1', code: 404, message: 'topic /futuresTrade/orders is not found' }],
    ['error without id, code as string', '{"type":"error","code":"401","data":"token is invalid"}', { type: 'error', id: undefined, code: 401, message: 'token is invalid' }],
    ['message', '{"topic":"/contract/instrument:XBTUSDTM","type":"message","subject":"mark.index.price","data":{"markPrice":1}}', { type: 'message', topic: '/contract/instrument:XBTUSDTM', subject: 'mark.index.price', data: { markPrice: 1 } }],
    ['an older push without type', '{"topic":"/contract/announcement","subject":"funding.begin","data":{}}', { type: 'message', topic: '/contract/announcement', subject: 'funding.begin', data: {} }],
    ['notice', '{"type":"notice","data":{}}', { type: 'other', kind: 'notice' }],
    ['not JSON', 'hello', undefined],
    ['an array', '[1]', undefined],
    ['a message without subject', '{"type":"message","topic":"/x"}', undefined],
  ])('%s', (_title, text, want) => {
    expect(parseFrame(text)).toEqual(want);
  });
});

describe("a push's own time", () => {
  it.each([
    ['ts in ns (orderChange)', { ts: 1731916985789000000 }, 1731916985789],
    ['ts in µs', { ts: 1731916985789000 }, 1731916985789],
    ['timestamp in ms (mark.index.price)', { timestamp: 1731899129000 }, 1731899129000],
    ['timestamp as a ms string (wallet)', { timestamp: '1731916996764' }, 1731916996764],
    ['timestamp in s', { timestamp: 1731899129 }, 1731899129000],
    ['ts before timestamp', { ts: 2000000000000, timestamp: 1 }, 2000000000000],
    ['none', { markPrice: 1 }, undefined],
    ['not a number', { ts: 'soon' }, undefined],
    ['not an object', 'x', undefined],
  ])('%s', (_title, data, want) => {
    const got = pushTimestampMs(data);
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toBeCloseTo(want, -1);
  });
});
