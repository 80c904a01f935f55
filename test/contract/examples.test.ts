/**
 * The contracts' examples are what clients copy: each must be valid against its schema, and an
 * example of an answer the gateway gives deterministically (every problem example, health, the
 * socket's answers to client messages) must be what the gateway really sends, member by member,
 * volatile members (request ids, times, uptime, sequence numbers, connection ids) aside.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parse } from 'yaml';
import { asyncapiPath, openapiPath } from '../../src/paths.js';
import { gatewayEnvForSimulator } from '../../src/simulator/config.js';
import { checkedRawRequest } from '../reliability/raw-http.js';
import { type RunningGateway, startGateway } from '../support/gateway.js';
import { request } from '../support/http-client.js';
import { simulator, startGatewayProcess, stopGatewayProcesses } from '../support/process.js';
import { assertServerMessage } from '../support/ws-contract.js';

type Json = Record<string, any>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

const openapi = parse(readFileSync(openapiPath, 'utf8')) as Json;
const asyncapi = parse(readFileSync(asyncapiPath, 'utf8')) as Json;
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (ajv: Ajv2020) => void;

const esc = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');
const at = (pointer: string): unknown =>
  pointer
    .split('/')
    .slice(1)
    .reduce<unknown>((node, key) => (isObject(node) ? node[key.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), openapi);

interface Example {
  /** Where it is: the media type's pointer and the example's name, or the schema's pointer. */
  where: string;
  /** The JSON pointer of the schema it must satisfy. */
  schema: string;
  value: unknown;
  /** The media type, for examples of requests and answers. */
  mediaType?: string;
}

/** Every example of openapi.yaml: request and answer media types (named examples, `$ref`s followed) and schemas' `examples`. */
function openapiExamples(): Example[] {
  const found: Example[] = [];
  const fromMedia = (pointer: string, content: unknown) => {
    if (!isObject(content)) return;
    for (const [mediaType, media] of Object.entries(content)) {
      if (!isObject(media) || !isObject(media.examples)) continue;
      for (const [name, example] of Object.entries(media.examples)) {
        const resolved = isObject(example) && typeof example.$ref === 'string' ? at(example.$ref.slice(1)) : example;
        found.push({ where: `${pointer}/content/${esc(mediaType)} ${name}`, schema: `${pointer}/content/${esc(mediaType)}/schema`, value: (resolved as Json).value, mediaType });
      }
    }
  };
  for (const [path, item] of Object.entries(openapi.paths as Json)) {
    for (const [method, operation] of Object.entries(item as Json)) {
      if (!isObject(operation) || method === 'parameters') continue;
      const base = `/paths/${esc(path)}/${method}`;
      if (isObject(operation.requestBody)) fromMedia(`${base}/requestBody`, operation.requestBody.content);
      for (const [status, response] of Object.entries(operation.responses as Json)) {
        if (isObject(response) && typeof response.$ref !== 'string') fromMedia(`${base}/responses/${status}`, response.content);
      }
    }
  }
  for (const [name, response] of Object.entries(openapi.components.responses as Json)) fromMedia(`/components/responses/${name}`, (response as Json).content);
  const fromSchema = (pointer: string, schema: unknown) => {
    if (Array.isArray(schema)) return schema.forEach((item, i) => fromSchema(`${pointer}/${i}`, item));
    if (!isObject(schema)) return;
    if (Array.isArray(schema.examples)) schema.examples.forEach((value, i) => found.push({ where: `${pointer} examples[${i}]`, schema: pointer, value }));
    for (const [key, child] of Object.entries(schema)) if (key !== 'examples' && key !== 'x-error-catalogue') fromSchema(`${pointer}/${esc(key)}`, child);
  };
  for (const [name, schema] of Object.entries(openapi.components.schemas as Json)) fromSchema(`/components/schemas/${name}`, schema);
  return found;
}

const examples = openapiExamples();
const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false });
addFormats(ajv);
ajv.addSchema(openapi, 'openapi', undefined, false);

describe('every example of openapi.yaml is valid against its schema', () => {
  it('finds the examples (requests, answers, schemas)', () => {
    expect(examples.filter((e) => e.where.includes('/requestBody/')).length).toBeGreaterThan(3);
    expect(examples.filter((e) => e.mediaType === 'application/problem+json').length).toBeGreaterThanOrEqual(3);
    expect(examples.filter((e) => e.mediaType === undefined).length).toBeGreaterThan(3);
  });

  it.each(examples.map((e) => [e.where, e] as const))('%s', (_, example) => {
    const validate = ajv.getSchema(`openapi#${example.schema.split('/').map(encodeURIComponent).join('/')}`);
    expect(validate, `no schema at ${example.schema}`).toBeDefined();
    expect(validate!(example.value), JSON.stringify(validate!.errors)).toBe(true);
  });
});

/** Members whose value differs on every answer. */
const VOLATILE = new Set(['requestId', 'timestamp', 'uptimeSeconds', 'seq', 'connectionId']);

/** `value` with its volatile members (at any depth) left out, for a member-by-member comparison. */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !VOLATILE.has(key)).map(([key, member]) => [key, stable(member)]));
}

const SIM_CREDENTIALS = { SIM_KEY: 'examples-key', SIM_SECRET: 'examples-secret-0123456789abcdef', SIM_PASSPHRASE: 'examples-passphrase' };
let switchedOff: RunningGateway;
let trading: RunningGateway;

beforeAll(async () => {
  // As health's example describes it: futures off, KuCoin's own address, no credentials.
  switchedOff = await startGateway({ FEATURE_FUTURES: 'false', FUTURES_BASE_URL: 'https://api-futures.kucoin.com' });
  const sim = await startGatewayProcess({ args: simulator(), env: { SIM_PORT: '0', SIM_MARK_INTERVAL_MS: '3600000', SIM_FUNDING_INTERVAL_MS: '3600000', ...SIM_CREDENTIALS } });
  trading = await startGateway({ FEATURE_FUTURES: 'true', ...gatewayEnvForSimulator(sim.baseUrl, SIM_CREDENTIALS) });
}, 40_000);

afterAll(async () => {
  await switchedOff?.stop();
  await trading?.stop();
  await stopGatewayProcesses();
});

/**
 * How each reproducible example is produced. Every problem example must be here: a problem is
 * the gateway's own words, so an example of one that the gateway does not say misleads clients.
 */
const live: Record<string, () => Promise<unknown>> = {
  '/paths/~1api~1health/get/responses/200/content/application~1json switchOff': async () => (await request(switchedOff.baseUrl, 'GET', '/api/health')).body,
  '/components/responses/BadRequestWithBody/content/application~1problem+json qtyZero': async () =>
    (await request(trading.baseUrl, 'POST', '/api/futures/orders', { json: { symbol: 'BTCUSDTM', side: 'BUY', type: 'MARKET', qty: 0 } })).body,
  '/components/responses/NotFound/content/application~1problem+json noRoute': async () => (await request(switchedOff.baseUrl, 'GET', '/api/futures/positions')).body,
  '/components/responses/MisdirectedRequest/content/application~1problem+json foreignHost': async () =>
    (await checkedRawRequest(trading.baseUrl, 'POST', '/api/futures/orders', { host: 'attacker.example', 'content-type': 'application/json' }, '{}')).body,
};

describe('examples of deterministic answers are what the gateway sends', () => {
  it('covers every problem example', () => {
    const problems = examples.filter((e) => e.mediaType === 'application/problem+json').map((e) => e.where);
    expect(problems.filter((where) => !(where in live))).toEqual([]);
  });

  it.each(Object.keys(live))('%s', async (where) => {
    const example = examples.find((e) => e.where === where);
    expect(example, `no example at ${where}`).toBeDefined();
    expect(stable(await live[where]!())).toEqual(stable(example!.value));
  });
});

/** The payload of the asyncapi.yaml message `name`'s example `exampleName`. */
function asyncExample(name: string, exampleName: string): unknown {
  const message = asyncapi.components.messages[name] as Json;
  return (message.examples as Json[]).find((e) => e.name === exampleName)!.payload;
}

describe('examples of the socket\'s answers are what the gateway sends', () => {
  it('futures_connected, subscriptions, error (unknown symbol, not JSON) and pong', async () => {
    const socket = new WebSocket(`${trading.wsUrl}/ws/futures`);
    const frames: Json[] = [];
    const waiters: { match: (m: Json) => boolean; resolve: (m: Json) => void }[] = [];
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as Json;
      assertServerMessage(message);
      frames.push(message);
      const waiter = waiters.findIndex((w) => w.match(message));
      if (waiter >= 0) waiters.splice(waiter, 1)[0]!.resolve(message);
    });
    const next = (match: (m: Json) => boolean) =>
      new Promise<Json>((resolve, reject) => {
        const seen = frames.find(match);
        if (seen) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`no such message in 10 s; got ${JSON.stringify(frames.map((f) => f.type))}`)), 10_000);
        waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    try {
      const connected = await next((m) => m.type === 'futures_connected');
      expect(stable(connected)).toEqual(stable(asyncExample('futuresConnected', 'connected')));
      // The snapshots come before the answers to client messages (one funding tick per watched symbol).
      await next((m) => m.type === 'funding_tick' && m.data.symbol === connected.symbols.at(-1));
      socket.send(JSON.stringify({ type: 'subscribe', symbols: ['SOL-USDT'], id: 'sub-1' }));
      expect(stable(await next((m) => m.type === 'subscriptions'))).toEqual(stable(asyncExample('subscriptions', 'subscribed')));
      socket.send(JSON.stringify({ type: 'subscribe', symbols: ['FOOUSDTM'], id: 'sub-2' }));
      expect(stable(await next((m) => m.type === 'error' && m.code === 'UNKNOWN_SYMBOL'))).toEqual(stable(asyncExample('error', 'unknownSymbol')));
      socket.send('{not json');
      expect(stable(await next((m) => m.type === 'error' && m.code === 'INVALID_MESSAGE'))).toEqual(stable(asyncExample('error', 'invalidMessage')));
      socket.send(JSON.stringify(asyncExample('ping', 'ping')));
      expect(stable(await next((m) => m.type === 'pong'))).toEqual(stable(asyncExample('pong', 'pong')));
    } finally {
      socket.close();
    }
  }, 30_000);
});
