import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { OpenAPIBackend } from 'openapi-backend';
import type { Context, Handler } from 'openapi-backend';
import { pinoHttp } from 'pino-http';
import { UpstreamShapeError } from '../futures/payload-fields.js';
import { UpstreamRefused } from '../kucoin/upstream-policy.js';
import type { RequestScope } from '../request-scope.js';
import { GatewayError } from '../errors.js';
import { hostAllowed, misdirected, originAllowed, originRefused } from '../edge/host-origin.js';
import type { HandlerDeps } from './handlers/context.js';
import { adminHandlers } from './handlers/admin.js';
import { futuresPreconditions, isFuturesPath, notImplemented } from './handlers/futures.js';
import { futuresOperationHandlers } from './handlers/futures-operations.js';
import { systemHandlers } from './handlers/system.js';
import { allowedMethods } from './openapi-backend.js';
import { notFound, sendProblem } from './problem.js';
import { callerKey, createRateLimiter } from './rate-limit.js';
import { requestIdFrom } from '../edge/request-id.js';
import { bodyReadError, contentCodingOf, refuseEncoding, refuseOversize, typedBodyError } from './request-body.js';
import { securityHeaders } from './security-headers.js';
import { addHeaders, headerPreset, keepHeadersUntilHead } from './head-once.js';
import { summarise, toFieldErrors } from './validation-errors.js';

/** The shape openapi-backend reads; Express 5's `req.path`/`req.query` are getters, so a plain object is built per request. */
interface PlainRequest {
  method: string;
  path: string;
  /**
   * The raw query string: openapi-backend parses it itself (with `qs`). Handing it Express's parsed
   * object instead made it re-encode that object and deep-clone it on every request.
   */
  query: string;
  headers: Record<string, string | string[]>;
  body?: unknown;
}

/** Configures `app` (a fresh one by default); gateway.ts passes the app its server was built for (express-server.ts). */
export function createApp(api: OpenAPIBackend, deps: HandlerDeps, app: express.Express = express()): express.Express {
  const { config, logger, metrics, futuresSwitch, keys } = deps;
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('etag', false);

  /** The one answer to an error, whether thrown or decided in place (refusals). */
  const answerError = (error: unknown, req: Request, res: Response): void => {
    // Admitted before a kill-switch flip but held back at KuCoin's door, or refused by the edge
    // after it (a body that arrived late): answered as every request after the flip is.
    if (error instanceof UpstreamRefused || (isFuturesPath(req.path) && !futuresSwitch.enabled && isEdgeRefusal(error))) {
      sendProblem(req, res, notFound(req));
      return;
    }
    const known = toGatewayError(error);
    if (known) {
      sendProblem(req, res, known);
      return;
    }
    // Only the gateway's own bugs get here. The stack goes to the log, never to the caller.
    // The root logger, with its path redaction: an error object can carry anything.
    logger.error({ err: error, requestId: req.id }, 'unhandled error');
    if (!res.headersSent) sendProblem(req, res, new GatewayError('INTERNAL_ERROR', 'An internal error occurred; it has been logged.'));
  };
  registerHandlers(api, deps, answerError);

  app.use(
    pinoHttp({
      // The access line holds only what the serializers below pick (no headers, no body, no query),
      // so pino's path redaction has nothing to find in it and is skipped there: it cost ~2 µs a
      // line. Every line still passes the root logger's scrub of configured secret values.
      logger: logger.child({}, { redact: { paths: [], censor: '[REDACTED]' } }),
      // Echoed as X-Request-Id by the per-request middleware below, after the security headers.
      genReqId: (req) => requestIdFrom(req.headers),
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      // Added to the completion line only: by then routing has named the route and errors their code.
      customSuccessObject: (_req, res, line) => withOutcome(res as unknown as Response, line),
      customErrorObject: (_req, res, _err, line) => withOutcome(res as unknown as Response, line),
      ...ACCESS_LINE,
    }),
  );

  // helmet's headers are worked out once, set in one call per request. Two sets: CSP's
  // `upgrade-insecure-requests` makes a browser fetch the page's own links over https, which a
  // gateway reached over plain HTTP at a non-localhost host cannot answer (ERR_SSL_PROTOCOL_ERROR),
  // so it goes only on answers to requests that came over TLS: `req.secure` is the socket's own
  // TLS or, with TRUST_PROXY, the trusted proxy's `X-Forwarded-Proto: https`.
  const overHttps = headerPreset(securityHeaders(helmet()));
  const overHttp = headerPreset(securityHeaders(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } })));
  // Every answer's headers are held by its response until its head is written, and go out in one
  // writeHead (head-once.ts): node's one-call path, where ~17 setHeader calls cost ~3 µs more.
  keepHeadersUntilHead(app.response);
  const limit = createRateLimiter(config, metrics, keys, logger);
  const parseJson = express.json({ limit: config.bodyLimitBytes, strict: true, type: () => true });

  const serve = async (req: Request, res: Response, scope: RequestScope): Promise<void> => {
    const path = req.path;
    // The kill switch comes before routing, auth and validation: off, a futures path must answer
    // exactly what an unknown path answers, whatever its method, headers or body.
    if (isFuturesPath(path) && !futuresSwitch.enabled) {
      sendProblem(req, res, notFound(req));
      return;
    }
    // After the switch (off, a futures path must not reveal itself), before auth and KuCoin: a
    // browser page from another site may not drive futures routes (host-origin.ts).
    if (isFuturesPath(path) && !originAllowed(config, req)) {
      sendProblem(req, res, originRefused(req));
      return;
    }
    const plain: PlainRequest = {
      // RFC 9110 §9.3.2: HEAD is GET without the body. The contract has no HEAD operations, so it
      // is routed, authorised and validated as the GET; node's ServerResponse leaves the body out
      // of an answer to HEAD and keeps the Content-Length the GET's body set.
      method: req.method === 'HEAD' ? 'GET' : req.method,
      path,
      query: queryString(req.url),
      headers: req.headers as PlainRequest['headers'],
    };
    try {
      // Every handler gets these after the context: (req, res, plain, parseJson, scope).
      await api.handleRequest(plain, req, res, plain, parseJson, scope);
    } catch (error) {
      // Refusals (401, 400, 404, 405...) are answered here, where they surface, rather than handed
      // back to Express, whose router would walk its stack to the error middleware below.
      answerError(error, req, res);
    }
  };

  // Every request's own steps in one middleware (each Express layer costs a `next` through the
  // router): the metrics, the security headers, the Host check, the inbound limit, then the
  // request's scope around routing. The order is the order they ran in as separate layers.
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (res.locals.route as string | undefined) ?? 'unmatched';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.recordHttp(req.method, route, res.statusCode, seconds);
    });
    addHeaders(res, req.secure ? overHttps : overHttp);
    res.setHeader('X-Request-Id', req.id as string);
    // Before anything else answers, on every route known or not: a Host outside ALLOWED_HOSTS is how
    // a DNS-rebinding page reaches a loopback gateway (host-origin.ts). Not charged to the rate limit.
    if (!hostAllowed(config, req)) {
      sendProblem(req, res, misdirected(req));
      return;
    }
    limit(req, res, (error?: unknown) => {
      if (error !== undefined) {
        next(error);
        return;
      }
      // The request's scope, handed to every futures operation and by it to each KuCoin call
      // (src/request-scope.ts): who asks (for fair shares of KuCoin's budget) and by when the answer
      // is due (UPSTREAM_DEADLINE_MS, counted from arrival). The caller is the inbound limiter's key
      // when it ran (worked out once). The scope holds plain values only: whatever an idempotency
      // outcome or a coalesced read keeps of it must not keep the request (a scope holding a lazy
      // getter over `req` kept every idempotency outcome's whole request alive: the short soak's
      // heap grew 7.6 MB for 550 orders, against 0.9 MB).
      serve(req, res, { caller: callerKey(req, keys), deadline: Date.now() + config.upstreamDeadlineMs }).catch(next);
    });
  });

  // What reaches Express as an error (the limiter's store failing, an answer that could not be
  // written) gets the same answers.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    answerError(error, req, res);
  });

  return app;
}

/**
 * What an access line holds of the request and the response. The serializers get node's own
 * request and response: pino's standard wrappers would first copy every field (headers, Express's
 * `req.query`, which parses the query string on each read, and `res.getHeaders()`) only for these
 * to pick four of them. (Benchmark 1's stack-alone server logs the same line.)
 */
export const ACCESS_LINE = {
  wrapSerializers: false,
  serializers: {
    req: (req: IncomingMessage & { id?: unknown; originalUrl?: string }) => ({
      id: req.id,
      method: req.method,
      // The query string is dropped: it is the one part of a URL a caller might put a secret in.
      path: (req.originalUrl || req.url || '').split('?')[0],
      remoteAddress: req.socket.remoteAddress,
    }),
    res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
  },
} as const;

function queryString(url: string): string {
  const start = url.indexOf('?');
  return start === -1 ? '' : url.slice(start + 1);
}

/** pino-http hands each completion line its own fresh object: filled in place, not copied (~3 µs a line). */
function withOutcome(res: Response, line: Record<string, unknown>): Record<string, unknown> {
  line.route = res.locals.route ?? 'unmatched';
  if (res.locals.errorCode) line.code = res.locals.errorCode;
  return line;
}

type AnswerError = (error: unknown, req: Request, res: Response) => void;

/**
 * The expected refusals (404, 405, 401, 400, a futures precondition) are answered where they are
 * decided, with `answer` (the same function the error middleware uses): thrown, each went back up
 * through openapi-backend's chain of awaits as a rejection, to be caught and answered there.
 */
function registerHandlers(api: OpenAPIBackend, deps: HandlerDeps, answer: AnswerError): void {
  const { config, keys } = deps;
  const refusal = futuresPreconditions(deps);
  // The futures preconditions are checked after validation and before the operation runs, as a
  // preOperationHandler would, but a refusal is answered instead of thrown past the operation.
  const checked =
    (handler: Handler): Handler =>
    (c: Context, req: Request, res: Response, ...rest: unknown[]) => {
      const refused = refusal(c);
      if (refused) return answer(refused, req, res);
      return handler(c, req, res, ...rest);
    };
  // The scope is the last of the arguments `serve` hands openapi-backend for every handler.
  const futuresOperations = Object.fromEntries(
    Object.entries(futuresOperationHandlers(deps.futures, deps.accountView)).map(([id, handler]) => [
      id,
      checked((c: Context, req: Request, res: Response, _plain: PlainRequest, _parseJson: express.RequestHandler, scope: RequestScope) => handler(c, req, res, scope)),
    ]),
  );
  api.register({
    ...systemHandlers(deps),
    ...adminHandlers(deps),
    ...futuresOperations,
    notFound: (_c: Context, req: Request, res: Response) => answer(notFound(req), req, res),
    methodNotAllowed: (_c: Context, req: Request, res: Response) => {
      const allow = allowedMethods(api, req.path).join(', ');
      answer(new GatewayError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path}.`, { headers: { Allow: allow } }), req, res);
    },
    postRoutingHandler: (c: Context, _req: Request, res: Response) => {
      if (c.operation) res.locals.route = c.operation.path;
    },
    // Bodies are read only after routing and auth succeed, and only for operations that take one,
    // so an unknown route or an unauthenticated caller never gets its body parsed.
    postSecurityHandler: async (c: Context, req: Request, res: Response, plain: PlainRequest, parseJson: express.RequestHandler) => {
      const needsAuth = (c.operation.security ?? []).length > 0;
      if (needsAuth && !c.security?.authorized) return;
      if (!c.operation.requestBody) return;
      const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
      if (!hasBody) return;
      // Refusals the headers decide come before a byte of the body is read (request-body.ts).
      const oversize = refuseOversize(req.headers, config.bodyLimitBytes);
      if (oversize) throw oversize;
      if (!req.is('application/json')) {
        throw new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'Request bodies must be application/json.');
      }
      const unreadable = refuseEncoding(req.headers);
      if (unreadable) throw unreadable;
      const coding = contentCodingOf(req.headers);
      await new Promise<void>((resolve, reject) => parseJson(req, res, (err?: unknown) => (err ? reject(bodyReadError(err, coding) ?? err) : resolve())));
      // Set on the request and on its kept parse, which validation reuses (openapi-backend.ts), as
      // parseRequest would set a body body-parser's strict mode let through (an object or array);
      // the headers, query and path are not parsed again.
      plain.body = req.body;
      c.request.body = req.body;
      c.request.requestBody = req.body;
    },
    unauthorizedHandler: (c: Context, req: Request, res: Response) => {
      const admin = (c.operation.security ?? []).some((requirement) => 'adminApiKey' in requirement);
      if (admin && config.adminApiKeys.length === 0) {
        answer(new GatewayError('FORBIDDEN', 'Admin operations are disabled: no ADMIN_API_KEYS are configured.'), req, res);
        return;
      }
      answer(
        new GatewayError('UNAUTHORIZED', 'A valid API key is required: send Authorization: Bearer <key>.', {
          headers: { 'WWW-Authenticate': 'Bearer realm="futures-gateway"' },
        }),
        req,
        res,
      );
    },
    validationFail: (c: Context, req: Request, res: Response) => {
      const errors = toFieldErrors(c.validation.errors ?? []);
      answer(new GatewayError('VALIDATION_FAILED', summarise(errors), { errors }), req, res);
    },
    notImplemented: checked((c: Context, ...rest: unknown[]) => {
      if (!isFuturesPath(c.operation.path)) {
        throw new Error(`operation ${c.operation.operationId} has no handler`);
      }
      return notImplemented(c, ...rest);
    }),
  });

  api.registerSecurityHandler('gatewayApiKey', (_c: Context, req: Request) => {
    if (config.apiKeys.length === 0) return true;
    return keys.caller(req).apiKey !== undefined;
  });
  api.registerSecurityHandler('adminApiKey', (_c: Context, req: Request) => keys.caller(req).adminKey ?? false);

  // Boot check: every operation outside the futures surface must have a handler; only futures
  // operations that later work implements may fall through to the typed 501.
  for (const operation of api.getOperations()) {
    if (!isFuturesPath(operation.path) && !api.handlers[operation.operationId ?? '']) {
      throw new Error(`openapi.yaml operation ${operation.operationId} (${operation.method} ${operation.path}) has no handler`);
    }
  }
}

/** The edge's own refusals of a request's form (nothing was sent to KuCoin for it). */
const EDGE_REFUSALS: ReadonlySet<string> = new Set(['VALIDATION_FAILED', 'MALFORMED_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'UNAUTHORIZED', 'METHOD_NOT_ALLOWED']);
const isEdgeRefusal = (error: unknown): boolean => {
  const known = toGatewayError(error);
  return known !== undefined && EDGE_REFUSALS.has(known.code);
};

/** Errors the gateway expects, as their typed answers; anything else is a bug (500). */
function toGatewayError(error: unknown): GatewayError | undefined {
  if (error instanceof GatewayError) return error;
  // A path segment that is not valid percent-encoding (`%zz`, a lone surrogate) cannot name anything:
  // bad input, not a bug (found by the property suite: it was a 500).
  if (error instanceof URIError) {
    return new GatewayError('VALIDATION_FAILED', 'The request path is not valid percent-encoding.', {
      errors: [{ location: 'path', field: '', message: 'is not valid percent-encoding' }],
    });
  }
  // KuCoin answered, but not in the shape its docs describe: their change, not our bug.
  if (error instanceof UpstreamShapeError) {
    return new GatewayError('UPSTREAM_BAD_RESPONSE', `KuCoin's answer had an unexpected shape: ${error.message}`);
  }
  // body-parser's own errors, should one reach here without passing postSecurityHandler's mapping.
  return typedBodyError(error);
}
