import addFormats from 'ajv-formats';
import type { Ajv } from 'ajv';
import { OpenAPIBackend, type Document, type Operation } from 'openapi-backend';
import type { JsonObject } from '../contract/documents.js';

export type GatewayOperation = Operation & { 'x-requires-credentials'?: boolean };

/**
 * openapi-backend tuned for a contract-first gateway:
 * - `quick` skips its check of the document against the OpenAPI *3.0* meta-schema, which rejects
 *   valid 3.1 (that check is `npm run lint:spec`'s job, once, in CI) and dereferences synchronously;
 * - `strict` makes any remaining init failure throw instead of silently routing nothing;
 * - ajv-formats, or `format` keywords are ignored; `validateSchema: false` skips re-validating our
 *   schemas against ajv's meta-schema at boot (the spec lint does it);
 * - request validators are compiled just after the server listens, one operation per turn of the
 *   event loop (`compileValidatorsSoon`): compiling all of them first was ~80 ms of the start to
 *   the first 200 (benchmark 4); an operation asked for before its turn is compiled then (~4 ms);
 * - the operation list is memoised: the router rebuilds it on every match otherwise.
 */
export async function createOpenApiBackend(definition: JsonObject): Promise<OpenAPIBackend> {
  const api = new OpenAPIBackend({
    definition: structuredClone(definition) as Document,
    strict: true,
    quick: true,
    validate: true,
    ignoreTrailingSlashes: false,
    ajvOpts: { validateSchema: false, allErrors: true, verbose: true },
    customizeAjv: (ajv: Ajv) => {
      addFormats.default(ajv);
      return ajv;
    },
  });
  await api.init();

  const operations = api.router.getOperations();
  if (operations.length === 0) {
    throw new Error('openapi-backend routed no operation from openapi.yaml: refusing to start');
  }
  api.router.getOperations = () => operations;
  skipRepeatedParsing(api);
  return api;
}

/**
 * Compiles every operation's request validators, one operation per turn of the event loop so
 * requests arriving meanwhile wait for at most one compile. Resolves once all are compiled.
 */
export async function compileValidatorsSoon(api: OpenAPIBackend): Promise<void> {
  for (const operation of api.router.getOperations()) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (operation.operationId) api.validator.getRequestValidatorsForOperation(operation.operationId);
  }
}

/**
 * openapi-backend parses one request three times: `handleRequest` before routing and again with the
 * matched operation, and `validateRequest` once more, the last two with the same request and the
 * same operation. The second answer is kept (per request object, so it goes with the request) and
 * given to the third. That was ~10 % of a rejected request's CPU (benchmark 1). Whoever changes the
 * request in between must change the kept parse too (app.ts does, for the body it reads).
 *
 * The first parse (no operation yet: headers copied, cookies and the query parsed) is only what
 * `context.request` holds until routing has matched, and is replaced by the second as soon as it has.
 * It is made when first read: a handler that runs before a match (the 404 and 405 handlers, a
 * pre-routing handler) and reads `context.request` gets the same parse as before, and a request
 * that is routed never pays for it (~5 µs a request, benchmark 1's stack and gateway alike).
 */
function skipRepeatedParsing(api: OpenAPIBackend): void {
  const router = api.router;
  const parse = router.parseRequest.bind(router);
  const parsed = new WeakMap<object, { operation: Operation; request: ReturnType<typeof parse> }>();
  router.parseRequest = (req, operation) => {
    if (operation === undefined) return parsedWhenRead(() => parse(req));
    const kept = parsed.get(req);
    if (kept?.operation === operation) return kept.request;
    const request = parse(req, operation);
    parsed.set(req, { operation, request });
    return request;
  };
}

type Parsed = ReturnType<OpenAPIBackend['router']['parseRequest']>;

/** A parsed request whose parse runs on the first read (or write) of any of its fields. */
class ParsedWhenRead {
  #parse: () => Parsed;
  #request: Parsed | undefined;
  constructor(parse: () => Parsed) {
    this.#parse = parse;
  }
  #now(): Parsed {
    return (this.#request ??= this.#parse());
  }
  get method() { return this.#now().method; }
  set method(value) { this.#now().method = value; }
  get path() { return this.#now().path; }
  set path(value) { this.#now().path = value; }
  get requestBody() { return this.#now().requestBody; }
  set requestBody(value) { this.#now().requestBody = value; }
  get params() { return this.#now().params; }
  set params(value) { this.#now().params = value; }
  get query() { return this.#now().query; }
  set query(value) { this.#now().query = value; }
  get headers() { return this.#now().headers; }
  set headers(value) { this.#now().headers = value; }
  get cookies() { return this.#now().cookies; }
  set cookies(value) { this.#now().cookies = value; }
  get body() { return this.#now().body; }
  set body(value) { this.#now().body = value; }
  /** The parse itself, as the fields' owner would show it (JSON, logging). */
  toJSON(): Parsed {
    return this.#now();
  }
}

function parsedWhenRead(parse: () => Parsed): Parsed {
  return new ParsedWhenRead(parse) as unknown as Parsed;
}

/** Methods a path answers to, for the `Allow` header of a 405 (RFC 9110 §15.5.6). */
export function allowedMethods(api: OpenAPIBackend, path: string): string[] {
  const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
  return methods
    .filter((method) => api.router.matchOperation({ method, path, headers: {} }) !== undefined)
    .map((m) => m.toUpperCase());
}
