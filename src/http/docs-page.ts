import type { JsonObject } from './contract.js';

const escape = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * A self-contained reference page rendered once from the two contracts: no CDN, no script, so it
 * works on a closed network and passes helmet's default Content-Security-Policy.
 */
export function renderDocsPage(openapi: JsonObject, asyncapi: JsonObject): string {
  const info = openapi.info as { title: string; version: string };
  const rows: string[] = [];
  for (const [path, item] of Object.entries(openapi.paths as Record<string, Record<string, JsonObject>>)) {
    for (const [method, op] of Object.entries(item)) {
      if (typeof op !== 'object' || !('operationId' in op)) continue;
      rows.push(
        `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escape(path)}</code></td>` +
          `<td>${escape(op.operationId)}</td><td>${escape(op.summary)}</td></tr>`,
      );
    }
  }
  const errorCode = ((openapi.components as JsonObject).schemas as Record<string, JsonObject>).ErrorCode!;
  const errors = (errorCode['x-error-catalogue'] as { code: string; status: number; title: string; kucoin: string[] }[]).map(
    (e) => `<tr><td><code>${e.code}</code></td><td>${e.status}</td><td>${escape(e.title)}</td><td>${e.kucoin.join(', ')}</td></tr>`,
  );
  const messages = Object.entries(((asyncapi.components as JsonObject | undefined)?.messages ?? {}) as Record<string, JsonObject>).map(
    ([name, m]) => `<tr><td>${escape(name)}</td><td>${escape(m.summary ?? m.title ?? '')}</td></tr>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(info.title)} ${escape(info.version)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:72rem}table{border-collapse:collapse;margin-bottom:2rem}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}code{font-size:.95em}</style>
</head><body>
<h1>${escape(info.title)} <small>${escape(info.version)}</small></h1>
<p>Machine-readable contracts: <a href="/api/openapi.json">/api/openapi.json</a> (REST) and <a href="/api/asyncapi.json">/api/asyncapi.json</a> (WebSocket <code>/ws/futures</code>).</p>
<h2>Operations</h2>
<table><tr><th>method</th><th>path</th><th>operationId</th><th>summary</th></tr>${rows.join('')}</table>
<h2>WebSocket messages</h2>
<table><tr><th>message</th><th>summary</th></tr>${messages.join('')}</table>
<h2>Error codes</h2>
<table><tr><th>code</th><th>status</th><th>title</th><th>KuCoin codes</th></tr>${errors.join('')}</table>
</body></html>`;
}
