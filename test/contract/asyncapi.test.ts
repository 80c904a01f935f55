import { DiagnosticSeverity, fromFile, Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { asyncapiPath } from '../../src/paths.js';
import { CloseCode, receiverCloseCode } from '../../src/ws/futures-socket.js';
import {
  assertClientMessage,
  assertServerMessage,
  clientMessageTypes,
  serverMessageTypes,
} from '../support/ws-contract.js';

const SERVER_TYPES = [
  'futures_connected',
  'position_update',
  'order_update',
  'funding_tick',
  'upstream_status',
  'subscriptions',
  'error',
  'pong',
];
const CLIENT_TYPES = ['subscribe', 'unsubscribe', 'ping'];

// The official parser, independent of the helper: it resolves the `./openapi.yaml#/...` refs itself.
const { document, diagnostics } = await fromFile(new Parser(), asyncapiPath).parse();

describe('asyncapi.yaml', () => {
  it('parses with the AsyncAPI parser without error diagnostics', () => {
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    expect(errors.map((d) => `${d.code} ${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document).toBeDefined();
  });

  it('gives every message a `type` const', () => {
    for (const message of document!.messages().all()) {
      expect(message.payload()?.properties()?.type?.const(), message.id()).toBeTypeOf('string');
    }
  });

  it('has exactly the documented server and client message types', () => {
    const byAction = { send: new Set<string>(), receive: new Set<string>() };
    for (const operation of document!.operations().all()) {
      const [own, replies] = operation.isSend() ? [byAction.send, byAction.receive] : [byAction.receive, byAction.send];
      for (const message of operation.messages().all()) own.add(message.name()!);
      for (const message of operation.reply()?.messages().all() ?? []) replies.add(message.name()!);
    }
    expect([...byAction.send].sort()).toEqual([...SERVER_TYPES].sort());
    expect([...byAction.receive].sort()).toEqual([...CLIENT_TYPES].sort());
    expect([...serverMessageTypes].sort()).toEqual([...SERVER_TYPES].sort());
    expect([...clientMessageTypes].sort()).toEqual([...CLIENT_TYPES].sort());
  });

  it('lists the same close codes in x-close-codes and in the channel description', () => {
    const channel = document!.channels().get('futures')!;
    const codes = (channel.json()['x-close-codes'] as { code: number }[]).map((c) => c.code);
    const tableCodes = [...channel.description()!.matchAll(/^\| (\d{4}) \|/gm)].map((m) => Number(m[1]));
    expect(codes).toEqual([1000, 1001, 1002, 1007, 1008, 1009, 4404, 4408]);
    expect(tableCodes).toEqual(codes);
  });

  it('documents exactly the close codes the gateway can send: its own, ws\'s receiver\'s, and 1000', () => {
    const channel = document!.channels().get('futures')!;
    const documented = new Set((channel.json()['x-close-codes'] as { code: number }[]).map((c) => c.code));
    // Every error ws's receiver can raise on a client frame, read from the installed ws itself.
    const receiverSource = readFileSync(join(dirname(createRequire(import.meta.url).resolve('ws')), 'lib', 'receiver.js'), 'utf8');
    const receiverErrors = [...new Set(receiverSource.match(/'WS_ERR_[A-Z0-9_]+'/g)!.map((q) => q.slice(1, -1)))];
    expect(receiverErrors.length).toBeGreaterThan(5);
    const receiverCodes = receiverErrors.map((code) => receiverCloseCode(Object.assign(new Error(code), { code })));
    expect(receiverCodes).not.toContain(undefined);
    // 1000: a client's normal close, echoed.
    const sendable = new Set([1000, ...Object.values(CloseCode), ...(receiverCodes as number[])]);
    expect([...sendable].sort()).toEqual([...documented].sort());
  });
});

describe('message examples validate against their payload schema', () => {
  const examples = document!.messages().all().flatMap((message) =>
    message.examples().all().map((example) => ({ title: `${message.name()}: ${example.name()}`, payload: example.payload() })),
  );

  it('gives every message at least one example', () => {
    for (const message of document!.messages().all()) expect(message.examples().length, message.name()).toBeGreaterThan(0);
  });

  it.each(examples)('$title', ({ payload }) => {
    const type = (payload as { type: string }).type;
    if (serverMessageTypes.includes(type)) assertServerMessage(payload);
    else assertClientMessage(payload);
  });
});

describe('the helper rejects what the contract does not describe', () => {
  const pong = { type: 'pong', timestamp: 1764200000000, seq: 3 };
  const subscribe = { type: 'subscribe', symbols: ['XBTUSDTM'] };

  it.each([
    ['a server message without seq', { type: 'pong', timestamp: 1764200000000 }, /seq/],
    ['a server message with seq 0', { ...pong, seq: 0 }, /must be >= 1/],
    ['a server message with an unknown type', { ...pong, type: 'hello' }, /type "hello" is not one of/],
    ['a server message with an undocumented member', { ...pong, extra: true }, /additional properties/],
    ['a message that is not an object', 'pong', /type undefined is not one of/],
    ['a funding_tick whose data is not a FundingRate', { type: 'funding_tick', snapshot: true, data: {}, timestamp: 1, seq: 1 }, /\/data must have required property/],
  ])('assertServerMessage rejects %s', (_, msg, reason) => {
    expect(() => assertServerMessage(msg)).toThrow(reason);
  });

  it.each([
    ['a client message with an extra property', { ...subscribe, channel: 'positions' }, /additional properties/],
    ['a subscribe with no symbols', { ...subscribe, symbols: [] }, /must NOT have fewer than 1 items/],
    ['a subscribe with 51 symbols', { ...subscribe, symbols: Array(51).fill('XBTUSDTM') }, /must NOT have more than 50 items/],
    ['a symbol longer than 40 characters', { ...subscribe, symbols: ['X'.repeat(41)] }, /must NOT have more than 40 characters/],
    ['an id longer than 64 characters', { type: 'ping', id: 'p'.repeat(65) }, /must NOT have more than 64 characters/],
    ['a server message type', pong, /type "pong" is not one of subscribe, unsubscribe, ping/],
  ])('assertClientMessage rejects %s', (_, msg, reason) => {
    expect(() => assertClientMessage(msg)).toThrow(reason);
  });

  it('accepts every symbol spelling the gateway maps', () => {
    assertClientMessage({ ...subscribe, symbols: ['XBTUSDTM', 'BTCUSDTM', 'BTC-USDT', 'BTCUSDT', 'BTC/USDT:USDT'], id: 'sub-1' });
  });
});
