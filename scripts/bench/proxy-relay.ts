import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The benchmark proxies' last step (proxy-floor.ts, proxy-stack.ts): reads the upstream's whole
 * answer and writes it back to the client with its status and content-type; `fail` is called on a
 * stream error.
 */
export function relayAnswer(answer: IncomingMessage, res: ServerResponse, fail: (why: string) => void): void {
  const parts: Buffer[] = [];
  answer.on('data', (chunk: Buffer) => parts.push(chunk));
  answer.on('error', (error) => fail(error.message));
  answer.on('end', () => {
    const text = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const type = answer.headers['content-type'];
    res.writeHead(answer.statusCode ?? 502, { ...(type === undefined ? {} : { 'content-type': type }), 'content-length': String(text.length) });
    res.end(text);
  });
}
