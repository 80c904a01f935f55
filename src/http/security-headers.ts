import type { IncomingMessage, ServerResponse } from 'node:http';

type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/**
 * The headers a header-only middleware such as helmet sets, found by running it once against a
 * recording response. helmet with a static policy (no per-request nonce) sets the same headers on
 * every answer, and running its dozen small middlewares per request cost ~3 % of a request's CPU.
 * Throws if the middleware does anything but set and remove headers, or does not finish at once.
 */
export function securityHeaders(middleware: Middleware): Map<string, string> {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      if (typeof value !== 'string') throw new Error(`security header ${name} is not a plain string`);
      headers.set(name, value);
      return recorder;
    },
    removeHeader(name: string) {
      headers.delete(name);
    },
  };
  let finished = false;
  middleware({ headers: {}, method: 'GET', url: '/' } as IncomingMessage, recorder as unknown as ServerResponse, (error) => {
    if (error) throw error;
    finished = true;
  });
  if (!finished) throw new Error('the security-header middleware did not finish synchronously');
  return headers;
}
