import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type express from 'express';

export interface ServerClasses {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
}

/**
 * Request and response classes for `http.createServer` whose instances are born with `app`'s own
 * request/response prototypes.
 *
 * Express's `app.handle` re-parents every request and response with `Object.setPrototypeOf` (to
 * give them `req.path`, `res.status`...). Changing an object's prototype after it was built makes
 * V8 drop its optimised shape for that object and for every inline cache node:http's own code then
 * runs it through; that one call cost ~30-45 µs of CPU per request here, more than the rest of
 * Express together (benchmark 1, `npm run bench`). Built on the right prototype from the start,
 * Express's call finds nothing to change and V8 keeps the fast shapes. Express is used exactly as
 * before: same app, same middleware, same `req`/`res` API.
 */
export function expressServerClasses(app: express.Express): ServerClasses {
  // Plain constructor functions, not classes: a class's `prototype` cannot be reassigned, and these
  // must have the app's objects (already chained to IncomingMessage/ServerResponse) as prototypes.
  function GatewayRequest(this: IncomingMessage, socket: Socket) {
    Reflect.apply(IncomingMessage, this, [socket]);
  }
  GatewayRequest.prototype = app.request;
  function GatewayResponse(this: ServerResponse, req: IncomingMessage, options?: unknown) {
    Reflect.apply(ServerResponse, this, [req, options]);
  }
  GatewayResponse.prototype = app.response;
  return {
    IncomingMessage: GatewayRequest as unknown as typeof IncomingMessage,
    ServerResponse: GatewayResponse as unknown as typeof ServerResponse,
  };
}
