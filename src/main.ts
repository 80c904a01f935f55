import { ConfigError, loadConfig } from './config/config.js';
import { createGateway } from './gateway.js';

/** Entry point: configuration errors end the process with one line naming the variable (design.md §2). */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const gateway = await createGateway({ config });
  await gateway.listen();

  const stop = (signal: NodeJS.Signals) => {
    gateway.logger.info({ event: 'signal', signal }, `received ${signal}`);
    gateway.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        gateway.logger.fatal({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
