import type { Context, Handler } from 'openapi-backend';
import type { Request, Response } from 'express';
import type { components } from '../../../generated/openapi.js';
import { isLoopbackHost } from '../../config/config.js';
import { GatewayError } from '../../errors.js';
import { SwitchStoreUnavailable } from '../../switch/futures-switch.js';
import { sendData } from '../problem.js';
import { keyFingerprint } from '../../edge/security.js';
import type { HandlerDeps } from './context.js';

type SwitchChange = components['schemas']['FuturesSwitchChange'];
type SwitchState = components['schemas']['FuturesSwitchState'];

/** Close code for futures sockets cut by the kill switch (documented in asyncapi.yaml). */
export const CLOSE_FUTURES_DISABLED = 4404;

/** The shared state is down: a typed 503 with a hint of when to try again (Redis reconnects within a second). */
function sharedStateUnavailable(error: unknown, store: 'memory' | 'file' | 'redis'): GatewayError {
  const detail = store === 'redis'
    ? 'REDIS_URL is set and Redis cannot be reached: the kill switch was not changed. Each replica keeps the state it last knew.'
    : "The kill switch's state file (STATE_DIR/switch.json) cannot be read; the gateway's log says why.";
  return new GatewayError('SHARED_STATE_UNAVAILABLE', detail, { retryAfterSeconds: 1, cause: error });
}

export function adminHandlers(deps: HandlerDeps): Record<string, Handler> {
  const { futuresSwitch, logger, metrics, config } = deps;

  const view = (): SwitchState => {
    const { enabled, environment, runtime, previous, changedAt, changedBy, reason, replica } = futuresSwitch.state();
    return { enabled, environment, runtime, previous, changedAt, changedBy, reason, replica, closedSockets: deps.closedSockets() };
  };

  return {
    getFuturesSwitch: (_c, _req: Request, res: Response) => sendData(res, 200, view()),

    getFuturesSwitchHistory: async (_c, _req: Request, res: Response) => {
      try {
        sendData(res, 200, await futuresSwitch.history());
      } catch (error) {
        if (error instanceof SwitchStoreUnavailable) throw sharedStateUnavailable(error, futuresSwitch.storeKind);
        throw error;
      }
    },

    setFuturesSwitch: async (c: Context, req: Request, res: Response) => {
      const change = c.request.requestBody as SwitchChange;
      const exposedWithoutKeys = !isLoopbackHost(config.host) && config.apiKeys.length === 0;
      if (change.enabled && exposedWithoutKeys) {
        throw new GatewayError(
          'UNSAFE_EXPOSURE',
          `The gateway listens on ${config.host} without GATEWAY_API_KEYS; futures stay off.`,
        );
      }
      // The playbook's rollback writes FEATURE_FUTURES=false: nothing at run time may undo it.
      if (change.enabled && !config.featureFutures) {
        throw new GatewayError(
          'FUTURES_OFF_BY_ENVIRONMENT',
          'FEATURE_FUTURES=false on this replica holds futures off; the runtime switch cannot turn them on. Set FEATURE_FUTURES=true and restart (production-enable.sh) first.',
        );
      }
      const by = `admin:${keyFingerprint(String(c.security?.adminApiKey ?? ''))}`;
      const before = futuresSwitch.state();
      try {
        await futuresSwitch.set({ enabled: change.enabled, by, reason: change.reason ?? null });
      } catch (error) {
        if (error instanceof SwitchStoreUnavailable) {
          logger.warn({ event: 'futures_switch_flip_refused', requestId: req.id, by, to: change.enabled, reason: change.reason ?? null }, 'futures kill switch flip refused: Redis unreachable');
          throw sharedStateUnavailable(error, futuresSwitch.storeKind);
        }
        throw error;
      }
      const after = view();
      metrics.switchFlips.inc({ to: change.enabled ? 'on' : 'off' });
      logger.warn(
        {
          event: 'futures_switch_flip',
          requestId: req.id,
          by,
          from: before.enabled,
          to: after.enabled,
          runtimeFrom: before.runtime,
          runtimeTo: change.enabled,
          reason: change.reason ?? null,
          closedSockets: after.closedSockets,
        },
        `futures kill switch runtime set ${change.enabled ? 'on' : 'off'} by ${by}; futures ${before.enabled ? 'on' : 'off'} -> ${after.enabled ? 'on' : 'off'}`,
      );
      sendData(res, 200, after);
    },
  };
}
