import { ConfigError, loadConfig } from './config/config.js';
import { createGateway } from './gateway.js';
import { handleShutdownSignals } from './shutdown-signals.js';

/** Entry point: configuration errors end the process with one line naming the variable, so a typo is found at start, not by the first request. */
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

  handleShutdownSignals({
    on: (signal, listener) => process.on(signal, listener),
    shutdown: () => gateway.shutdown(),
    logger: gateway.logger,
    exit: (code) => process.exit(code),
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
