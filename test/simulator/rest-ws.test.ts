/**
 * The wiring of engine → socket in src/simulator/rest/server.ts: a private client subscribed to
 * the KuCoin topics gets each engine push once, on the topic it subscribed to.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { hmacBase64 } from '../../src/kucoin/signer.js';
import { loadSimConfig } from '../../src/simulator/config.js';
import type { KucoinBullet } from '../../src/simulator/rest/routes.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/rest/server.js';

const config = loadSimConfig({ SIM_PORT: '0' });
let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ config, timers: false });
});
afterAll(() => sim.close());

async function privateBullet(): Promise<KucoinBullet> {
  const ts = String(Date.now());
  const { secret, passphrase, key } = config.credentials;
  const response = await fetch(`${sim.url}/api/v1/bullet-private`, {
    method: 'POST',
    headers: {
      'KC-API-KEY': key,
      'KC-API-SIGN': hmacBase64(secret, `${ts}POST/api/v1/bullet-private`),
      'KC-API-TIMESTAMP': ts,
      'KC-API-PASSPHRASE': hmacBase64(secret, passphrase),
      'KC-API-KEY-VERSION': config.keyVersion,
    },
  });
  const body = (await response.json()) as { code: string; data: KucoinBullet };
  expect(body.code).toBe('200000');
  return body.data;
}

interface Frame {
  id?: string;
  type: string;
  topic?: string;
  subject?: string;
  data?: Record<string, unknown>;
}

it('each order, position, wallet and mark push arrives once per subscribed topic', async () => {
  const bullet = await privateBullet();
  const socket = new WebSocket(`${bullet.instanceServers[0]!.endpoint}?token=${bullet.token}&connectId=w1`);
  const frames: Frame[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(String(data)) as Frame));
  await new Promise((resolve) => socket.once('open', resolve));
  const topics = ['/contractMarket/tradeOrders:XBTUSDTM', '/contractMarket/tradeOrders', '/contract/position:XBTUSDTM', '/contractAccount/wallet', '/contract/instrument:XBTUSDTM'];
  topics.forEach((topic, i) => socket.send(JSON.stringify({ id: `s${i}`, type: 'subscribe', topic, privateChannel: true, response: true })));
  await expect.poll(() => frames.filter((f) => f.type === 'ack').length).toBe(topics.length);

  sim.engine.placeOrder({ clientOid: 'ws-1', symbol: 'XBTUSDTM', side: 'buy', type: 'market', size: 2, leverage: 5 });
  sim.engine.setMark('XBTUSDTM', 86_500);
  await expect.poll(() => frames.filter((f) => f.subject === 'mark.index.price').length).toBe(1);
  await new Promise((resolve) => setTimeout(resolve, 50));
  socket.close();

  const messages = frames.filter((f) => f.type === 'message');
  const count = (topic: string, subject: string) => messages.filter((f) => f.topic === topic && f.subject === subject).length;
  expect(count('/contractMarket/tradeOrders:XBTUSDTM', 'symbolOrderChange')).toBe(3);
  expect(count('/contractMarket/tradeOrders', 'orderChange')).toBe(3);
  expect(messages.filter((f) => f.subject === 'orderChange').map((f) => f.data!.type)).toEqual(['open', 'match', 'filled']);
  expect(count('/contract/position:XBTUSDTM', 'position.change')).toBe(2); // the fill (full) and the mark move (partial)
  expect(count('/contractAccount/wallet', 'walletBalance.change')).toBe(1);
  expect(messages.find((f) => f.subject === 'walletBalance.change')).toMatchObject({ type: 'message', channelType: 'private', data: { currency: 'USDT' } });
});
