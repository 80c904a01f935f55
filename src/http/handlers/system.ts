import type { Handler } from 'openapi-backend';
import type { Request, Response } from 'express';
import type { components } from '../../../generated/openapi.js';
import { sendData } from '../problem.js';
import type { HandlerDeps } from './context.js';

type Health = components['schemas']['Health'];

export function systemHandlers(deps: HandlerDeps): Record<string, Handler> {
  const { config, futuresSwitch, documents } = deps;
  const openapiJson = JSON.stringify(documents.openapi);
  const asyncapiJson = JSON.stringify(documents.asyncapi);

  return {
    getHealth: (_c, _req: Request, res: Response) => {
      const state = futuresSwitch.state();
      const health: Health = {
        status: 'ok',
        version: deps.version,
        uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 100) / 10,
        futures: { enabled: state.enabled, changedAt: state.changedAt, changedBy: state.changedBy },
        upstream: {
          provider: 'kucoin',
          enabled: config.exchangeKucoin,
          baseUrl: config.futuresBaseUrl,
          credentialsConfigured: config.kucoin.credentials !== null,
          keyVersion: config.kucoin.keyVersion,
        },
      };
      sendData(res, 200, health);
    },
    getOpenApiDocument: (_c, _req: Request, res: Response) => {
      res.status(200).type('application/json').send(openapiJson);
    },
    getAsyncApiDocument: (_c, _req: Request, res: Response) => {
      res.status(200).type('application/json').send(asyncapiJson);
    },
    getDocs: (_c, _req: Request, res: Response) => {
      res.status(200).type('text/html').send(documents.docsHtml);
    },
    getMetrics: async (_c, _req: Request, res: Response) => {
      const body = await deps.metrics.registry.metrics();
      res.status(200).type(deps.metrics.registry.contentType).send(body);
    },
  };
}
