import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ServerClasses } from './express-server.js';
import { GatewayError, toProblem } from '../errors.js';
import { requestIdFrom } from '../edge/request-id.js';

/**
 * Answers, as the plain HTTP/1.1 request it also is, a request whose `Upgrade` header asks for a
 * protocol the gateway does not speak (`curl --http2` sends `Upgrade: h2c`): RFC 9110 §7.8 lets a
 * server ignore `Upgrade` and answer in the protocol the request came in.
 *
 * node hands every request with `Connection: Upgrade` to the `upgrade` listener, with the socket
 * no longer parsed and the request already ended (no body). So the request is built afresh on the
 * server's own classes, its `Content-Length` body read from the socket by hand, and it goes out
 * through the server's `request` listeners like any other (in-flight tracking, the app), answered
 * with `Connection: close`: nothing parses what the client sends after it.
 */
export function createPlainUpgradeServer(server: Server, classes: ServerClasses): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (upgrade, duplex, head) => {
    const socket = duplex as Socket;
    // node's request and headers timeouts stop at the upgrade; a body that trickles is cut here.
    socket.setTimeout(server.requestTimeout || 30_000, () => socket.destroy());
    const req = new classes.IncomingMessage(socket);
    copyRequestLine(upgrade, req);
    const res = new classes.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    // The answer written, the connection ends; the response's `close` follows the socket's.
    res.once('finish', () => socket.destroySoon());

    const length = bodyLength(upgrade);
    if (length === undefined) {
      req.complete = true;
      req.push(null);
      return writeProblem(
        upgrade,
        res,
        new GatewayError('VALIDATION_FAILED', 'A request carrying an Upgrade header must give its body length in Content-Length (no chunked body).'),
      );
    }
    readBody(req, socket, head, length);
    server.emit('request', req, res);
  };
}

/** The body's length from Content-Length (0 without one); undefined for a body of unknown length. */
function bodyLength(req: IncomingMessage): number | undefined {
  if (req.headers['transfer-encoding'] !== undefined) return undefined;
  const declared = req.headers['content-length'];
  if (declared === undefined) return 0;
  // node's parser has already refused a Content-Length that is not digits, or given twice differently.
  const length = Number(declared);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

function copyRequestLine(from: IncomingMessage, to: IncomingMessage): void {
  to.httpVersionMajor = from.httpVersionMajor;
  to.httpVersionMinor = from.httpVersionMinor;
  to.httpVersion = from.httpVersion;
  to.method = from.method;
  to.url = from.url;
  to.rawHeaders = from.rawHeaders;
  to.headers = from.headers;
}

/**
 * Pushes the `length` bytes of the body into `req`: what came with the headers (`head`), then
 * what follows on the socket. The socket is paused while `req` is full; `req` resumes it when read
 * (IncomingMessage's own `_read`). A client that hangs up early leaves the request aborted.
 */
function readBody(req: IncomingMessage, socket: Socket, head: Buffer, length: number): void {
  let missing = length;
  const take = (chunk: Buffer): void => {
    const part = chunk.subarray(0, missing);
    missing -= part.length;
    if (part.length > 0 && !req.push(part)) socket.pause();
    if (missing === 0) finish();
  };
  const finish = (): void => {
    socket.off('data', take);
    socket.off('close', abort);
    req.complete = true;
    req.push(null);
  };
  const abort = (): void => {
    socket.off('data', take);
    req.destroy();
  };
  if (missing === 0) return finish();
  socket.on('close', abort);
  take(head);
  // A `data` listener starts the socket flowing, unless `take` has just paused it for `req`.
  if (missing > 0) socket.on('data', take);
}

function writeProblem(upgrade: IncomingMessage, res: ServerResponse, error: GatewayError): void {
  const requestId = requestIdFrom(upgrade.headers);
  const path = (upgrade.url ?? '').split('?')[0] ?? '';
  const body = JSON.stringify(toProblem(error, requestId, path, Date.now()));
  res.writeHead(error.status, {
    'Content-Type': 'application/problem+json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'X-Request-Id': requestId,
  });
  res.end(body);
}
