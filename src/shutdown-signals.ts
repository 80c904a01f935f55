import type { Logger } from 'pino';

export type ShutdownSignal = 'SIGTERM' | 'SIGINT';
export const SHUTDOWN_SIGNALS: readonly ShutdownSignal[] = ['SIGTERM', 'SIGINT'];

/** What a forced exit (the third signal) ends with: 128 + the signal's number, as a shell reports a death by that signal. */
export const FORCED_EXIT_CODES: Readonly<Record<ShutdownSignal, number>> = { SIGTERM: 143, SIGINT: 130 };

export interface SignalDeps {
  /** Where the signals come from: `process` in production. */
  on(signal: ShutdownSignal, listener: (signal: NodeJS.Signals) => void): unknown;
  shutdown(): Promise<void>;
  logger: Logger;
  exit(code: number): void;
}

/**
 * SIGTERM and SIGINT stay handled for the life of the process: node's default for a signal with
 * no listener is to die at once, which would drop every order still waiting for KuCoin's answer.
 * - first: graceful shutdown (no new connections, in-flight requests answered), then exit 0;
 * - second: logged (`signal_ignored`), draining goes on: orchestrators and impatient operators
 *   repeat signals, and an order already sent to KuCoin deserves its answer;
 * - third: logged (`signal_forced_exit`) and the process exits at once with 128 + the signal's
 *   number (143 for SIGTERM, 130 for SIGINT): the operator's explicit "stop now". SIGKILL, which
 *   no process can handle, also cuts the drain short.
 */
export function handleShutdownSignals(deps: SignalDeps): void {
  const { logger } = deps;
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received += 1;
    if (received === 1) {
      logger.info({ event: 'signal', signal }, `received ${signal}: shutting down gracefully`);
      deps.shutdown().then(
        () => deps.exit(0),
        (error: unknown) => {
          logger.fatal({ err: error }, 'shutdown failed');
          deps.exit(1);
        },
      );
      return;
    }
    if (received === 2) {
      logger.warn({ event: 'signal_ignored', signal }, `received ${signal} again: still finishing in-flight requests; a third signal exits at once`);
      return;
    }
    const code = FORCED_EXIT_CODES[signal as ShutdownSignal] ?? 1;
    logger.fatal({ event: 'signal_forced_exit', signal, code }, `received ${signal} a third time: exiting now, in-flight requests are cut off`);
    // The destination writes asynchronously: give the line a moment to leave, no more.
    const exitNow = () => deps.exit(code);
    setTimeout(exitNow, 200).unref();
    logger.flush(exitNow);
  };
  for (const signal of SHUTDOWN_SIGNALS) deps.on(signal, onSignal);
}
