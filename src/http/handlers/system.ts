import type { Handler } from 'openapi-backend';
import type { Request, Response } from 'express';
import type { components } from '../../../generated/openapi.js';
import { docsAssets } from '../docs-assets.js';
import { notFound, sendData } from '../problem.js';
import { servedOpenApiDocument } from '../served-contract.js';
import type { HandlerDeps } from './context.js';

type Health = components['schemas']['Health'];

export function systemHandlers(deps: HandlerDeps): Record<string, Handler> {
  const { config, futuresSwitch, documents } = deps;
  const openapiJson = JSON.stringify(servedOpenApiDocument(documents.openapi, { gatewayApiKeys: config.apiKeys.length > 0 }));
  const asyncapiJson = JSON.stringify(documents.asyncapi);
  const asset = docsAssets();
  // Rendered on its first request: the Markdown renderer is loaded only by a gateway whose WebSocket reference is read.
  let websocketDocs: Promise<string> | undefined;

  return {
    getHealth: (_c, _req: Request, res: Response) => {
      const { enabled, environment, runtime, changedAt, changedBy, reason, replica } = futuresSwitch.state();
      // Redis is the only shared dependency whose loss a replica works around (on what it last knew).
      const redis = futuresSwitch.storeKind !== 'redis' ? 'unused' : futuresSwitch.storeReachable ? 'up' : 'down';
      const health: Health = {
        status: redis === 'down' ? 'degraded' : 'ok',
        version: deps.version,
        uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 100) / 10,
        redis,
        futures: { enabled, environment, runtime, changedAt, changedBy, reason, replica },
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
    getWebSocketDocs: async (_c, _req: Request, res: Response) => {
      websocketDocs ??= import('../websocket-docs-page.js').then((page) => page.renderWebSocketDocsPage(documents.asyncapi));
      // A failed render is not kept: the next request tries again (and logs again).
      const html = await websocketDocs.catch((error: unknown) => {
        websocketDocs = undefined;
        throw error;
      });
      res.status(200).type('text/html').send(html);
    },
    getDocsAsset: (c, req: Request, res: Response) => {
      const file = asset(String(c.request.params.asset));
      if (!file) throw notFound(req);
      res.status(200).set({ 'Content-Type': file.contentType, 'Cache-Control': 'public, max-age=3600' }).send(file.body);
    },
    getMetrics: async (_c, _req: Request, res: Response) => {
      const body = await deps.metrics.registry.metrics();
      res.status(200).type(deps.metrics.registry.contentType).send(body);
    },
  };
}
