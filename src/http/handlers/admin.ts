import type { Context, Handler } from 'openapi-backend';
import type { Request, Response } from 'express';
import type { components } from '../../../generated/openapi.js';
import { isLoopbackHost } from '../../config/config.js';
import { GatewayError } from '../../errors.js';
import { sendData } from '../problem.js';
import { keyFingerprint } from '../../edge/security.js';
import type { HandlerDeps } from './context.js';

type SwitchChange = components['schemas']['FuturesSwitchChange'];
type SwitchState = components['schemas']['FuturesSwitchState'];

/** Close code for futures sockets cut by the kill switch (documented in asyncapi.yaml). */
export const CLOSE_FUTURES_DISABLED = 4404;

export function adminHandlers(deps: HandlerDeps): Record<string, Handler> {
  const { futuresSwitch, logger, metrics, config } = deps;
  let lastClosedSockets = 0;

  const view = (): SwitchState => {
    const { enabled, previous, changedAt, changedBy, reason } = futuresSwitch.state();
    return { enabled, previous, changedAt, changedBy, reason, closedSockets: lastClosedSockets };
  };

  return {
    getFuturesSwitch: (_c, _req: Request, res: Response) => sendData(res, 200, view()),

    setFuturesSwitch: (c: Context, req: Request, res: Response) => {
      const change = c.request.requestBody as SwitchChange;
      const exposedWithoutKeys = !isLoopbackHost(config.host) && config.apiKeys.length === 0;
      if (change.enabled && exposedWithoutKeys) {
        throw new GatewayError(
          'UNSAFE_EXPOSURE',
          `The gateway listens on ${config.host} without GATEWAY_API_KEYS; futures stay off.`,
        );
      }
      const by = `admin:${keyFingerprint(String(c.security?.adminApiKey ?? ''))}`;
      const before = futuresSwitch.enabled;
      futuresSwitch.set({ enabled: change.enabled, by, reason: change.reason ?? null });
      lastClosedSockets = change.enabled ? 0 : deps.closeFuturesSockets(CLOSE_FUTURES_DISABLED, 'futures disabled');
      metrics.switchFlips.inc({ to: change.enabled ? 'on' : 'off' });
      logger.warn(
        {
          event: 'futures_switch_flip',
          requestId: req.id,
          by,
          from: before,
          to: change.enabled,
          reason: change.reason ?? null,
          closedSockets: lastClosedSockets,
        },
        `futures kill switch set ${before ? 'on' : 'off'} -> ${change.enabled ? 'on' : 'off'} by ${by}`,
      );
      sendData(res, 200, view());
    },
  };
}
