/**
 * `npm run sim`: the KuCoin Futures simulator as a process. Settings from SIM_*
 * (config.ts). When ready it writes one JSON line to stdout, `{"event":"listening","port":N,…}`;
 * SIGTERM/SIGINT stop it cleanly (exit 0). Logs go to stderr.
 */
import { pino } from 'pino';
import { loadSimConfig, SimConfigError } from './config.js';
import { startSimulator } from './rest/server.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadSimConfig();
  } catch (error) {
    if (error instanceof SimConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = pino({ name: 'kucoin-sim', level: process.env.SIM_LOG_LEVEL ?? 'info' }, pino.destination(2));
  const sim = await startSimulator({ config, logger });
  process.stdout.write(
    `${JSON.stringify({ event: 'listening', port: sim.port, host: config.host, url: sim.url, wsUrl: sim.wsUrl, seed: config.seed, keyVersion: config.keyVersion })}\n`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'signal', signal }, `received ${signal}`);
    sim.close().then(
      () => {
        process.stdout.write(`${JSON.stringify({ event: 'stopped', signal })}\n`);
        process.exit(0);
      },
      (error: unknown) => {
        logger.fatal({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`simulator failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
