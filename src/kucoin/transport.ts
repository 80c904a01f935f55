/**
 * The wire under the KuCoin client: one HTTP exchange on `node:http` or `node:https` (chosen by the
 * base URL's protocol) over one keep-alive agent per client. It replaced `fetch`, whose web streams,
 * abort signals and events cost more CPU per call than the call's own work (docs/performance.md
 * "Proxied latency"). What it keeps of fetch's behaviour: the whole exchange (headers and body)
 * bounded by one timeout, redirects never followed, a compressed answer decoded, the body read in
 * full as text; what it adds: a cap on the answer's size.
 */
// The modules, not their `request`: looked up per call, so an interceptor installed later (msw in
// the tests) sees the calls.
import http, { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from 'node:http';
import https from 'node:https';
import { brotliDecompress, gunzip, inflate, type ZlibOptions } from 'node:zlib';

/**
 * The largest answer read from KuCoin, decoded: 16 MiB. Its largest answers (the active contract
 * list, ~1 MB in 2026; a page of done orders, well under that) fit many times over; anything larger
 * is not an answer the gateway can use, and reading it unbounded would let one upstream fault grow
 * the heap without limit.
 */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/**
 * How long an idle kept-alive socket is kept (ms): below the idle timeouts of KuCoin's edge and
 * of the simulator (node's default 5 s), so the gateway closes a socket before the server does and
 * rarely writes to one the server is closing; node's agent also honours a shorter `Keep-Alive:
 * timeout=` hint from the server.
 */
const FREE_SOCKET_TIMEOUT_MS = 4_000;

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** Why an exchange failed: `timeout` (the time ran out), `network` (no usable answer), `too_large` (the answer passed MAX_ANSWER_BYTES), `redirect` (a 3xx, not followed). */
export type TransportFailure = 'timeout' | 'network' | 'too_large' | 'redirect';

export class TransportError extends Error {
  constructor(
    readonly kind: TransportFailure,
    message: string,
    /** The system error's code (ECONNREFUSED, ENOTFOUND…) or the failure's message. */
    override readonly cause: { code?: string; message: string },
    /** The answer's HTTP status, when there was an answer (`too_large`). */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface Transport {
  readonly protocol: 'http:' | 'https:';
  readonly agent: http.Agent;
  /** One exchange; rejects with TransportError only. `path` is the encoded path and query. */
  send(method: string, path: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<Answer>;
  /** Closes the kept-alive sockets; an exchange in flight is ended. */
  close(): void;
}

/** The transport for a KuCoin base URL (`https://api-futures.kucoin.com`, or the simulator's `http://…`). */
export function createTransport(baseUrl: string, options: { maxSockets?: number } = {}): Transport {
  const url = new URL(baseUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported protocol ${url.protocol} in ${baseUrl}`);
  const secure = url.protocol === 'https:';
  const agentOptions = {
    keepAlive: true,
    // Calls beyond it wait in the agent's queue rather than open yet another connection.
    maxSockets: options.maxSockets ?? 128,
    maxFreeSockets: 32,
    // The most recently used socket first: the others go idle and are closed, and the one in use is warm.
    scheduling: 'lifo' as const,
    timeout: FREE_SOCKET_TIMEOUT_MS,
  };
  const agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  const wire = secure ? https : http;
  const base: RequestOptions = {
    agent,
    protocol: url.protocol,
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
  };
  const prefix = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  // Like fetch: ask for a compressed answer, decode it below.
  const acceptEncoding = secure ? 'br, gzip, deflate' : 'gzip, deflate';

  return {
    protocol: url.protocol,
    agent,
    close: () => agent.destroy(),
    send: (method, path, headers, body, timeoutMs) =>
      new Promise<Answer>((resolve, reject) => {
        let settled = false;
        let req: ClientRequest | undefined;
        const finish = (error: TransportError | undefined, answer?: Answer) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (error) {
            // Errors after this (the socket's) land on the listener below and are ignored.
            req?.destroy();
            reject(error);
          } else resolve(answer!);
        };
        const timer = setTimeout(() => finish(new TransportError('timeout', `no answer within ${timeoutMs} ms`, { message: 'timeout' })), timeoutMs);
        const requestHeaders: Record<string, string> = { ...headers, 'accept-encoding': acceptEncoding };
        if (body !== '') requestHeaders['content-length'] = String(Buffer.byteLength(body));
        try {
          req = wire.request({ ...base, method, path: prefix + path, headers: requestHeaders }, (res) => {
            const status = res.statusCode ?? 0;
            if (status >= 300 && status < 400) {
              res.resume();
              finish(new TransportError('redirect', `KuCoin answered HTTP ${status} (redirects are not followed)`, { message: `redirect ${status}` }));
              return;
            }
            readBody(res, (error, text) => finish(error, error ? undefined : { status, headers: res.headers, text: text! }));
          });
        } catch (error) {
          // Headers node refuses (an invalid character) throw before anything is dialled.
          finish(new TransportError('network', (error as Error).message, { ...codeOf(error), message: (error as Error).message }));
          return;
        }
        req.on('error', (error: NodeJS.ErrnoException) => finish(new TransportError('network', error.message, { ...codeOf(error), message: error.message })));
        req.end(body === '' ? undefined : body);
      }),
  };
}

function codeOf(error: unknown): { code?: string } {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? { code } : {};
}

/** Reads the answer in full (at most MAX_ANSWER_BYTES, decoded), as UTF-8 text. */
function readBody(res: IncomingMessage, done: (error: TransportError | undefined, text?: string) => void): void {
  const declared = Number(res.headers['content-length']);
  const status = res.statusCode ?? 0;
  if (declared > MAX_ANSWER_BYTES) {
    res.destroy();
    done(tooLarge(status));
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) {
      res.destroy();
      done(tooLarge(status));
      return;
    }
    chunks.push(chunk);
  });
  res.on('error', (error: NodeJS.ErrnoException) => done(new TransportError('network', error.message, { ...codeOf(error), message: error.message })));
  res.on('close', () => {
    if (!res.complete) done(new TransportError('network', 'the answer ended early', { code: 'ECONNRESET', message: 'aborted' }));
  });
  res.on('end', () => {
    const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    const encoding = res.headers['content-encoding']?.trim().toLowerCase();
    const decode = encoding === 'gzip' || encoding === 'x-gzip' ? gunzip : encoding === 'deflate' ? inflate : encoding === 'br' ? brotliDecompress : undefined;
    if (decode === undefined || raw.length === 0) {
      done(undefined, raw.toString('utf8'));
      return;
    }
    (decode as (buffer: Buffer, options: ZlibOptions, callback: (error: Error | null, result: Buffer) => void) => void)(raw, { maxOutputLength: MAX_ANSWER_BYTES }, (error, decoded) => {
      if (error === null) done(undefined, decoded.toString('utf8'));
      else if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') done(tooLarge(status));
      else done(new TransportError('network', `the answer's ${encoding} encoding is broken: ${error.message}`, { message: 'bad encoding' }));
    });
  });
}

function tooLarge(status: number): TransportError {
  return new TransportError('too_large', `KuCoin's answer is larger than ${MAX_ANSWER_BYTES} bytes`, { message: 'too large' }, status);
}
