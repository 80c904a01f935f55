import type { JsonObject } from '../contract/documents.js';

export const escapeHtml = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Where the page's files are served (the getDocsAsset operation): outside /api/futures, so the kill switch never hides them. */
export const ASSETS = '/api/docs/assets';

/** The bar both reference pages share: what there is to read, and the raw contracts. */
export function docsHeader(title: string, version: string, current: 'rest' | 'websocket'): string {
  const link = (href: string, text: string, here: boolean) => `<a href="${href}"${here ? ' aria-current="page"' : ''}>${text}</a>`;
  return `<header class="docs-bar"><span class="docs-title">${escapeHtml(title)} <small>${escapeHtml(version)}</small></span><nav>` +
    link('/api/docs', 'REST API', current === 'rest') +
    link('/api/docs/websocket', 'WebSocket', current === 'websocket') +
    link('/api/docs#error-codes', 'Error codes', false) +
    link('/api/openapi.json', 'openapi.json', false) +
    link('/api/asyncapi.json', 'asyncapi.json', false) +
    '</nav></header>';
}

/**
 * The interactive REST reference: Swagger UI, loaded from this gateway's own files (no CDN, so it
 * works on a closed network), started by a script file rather than an inline one so helmet's
 * Content-Security-Policy (`script-src 'self'`) holds as it is. The error catalogue follows.
 */
export function renderDocsPage(openapi: JsonObject, _asyncapi: JsonObject): string {
  const info = openapi.info as { title: string; version: string };
  const errorCode = ((openapi.components as JsonObject).schemas as Record<string, JsonObject>).ErrorCode!;
  const errors = (errorCode['x-error-catalogue'] as { code: string; status: number; title: string; kucoin: string[] }[]).map(
    (e) =>
      `<tr><td><code>${escapeHtml(e.code)}</code></td><td>${escapeHtml(e.status)}</td><td>${escapeHtml(e.title)}</td>` +
      `<td>${e.kucoin.map((k) => `<code>${escapeHtml(k)}</code>`).join(', ')}</td></tr>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info.title)} ${escapeHtml(info.version)}: REST reference</title>
<link rel="icon" type="image/png" href="${ASSETS}/favicon.png">
<link rel="stylesheet" href="${ASSETS}/swagger-ui.css"><link rel="stylesheet" href="${ASSETS}/docs.css">
<script src="${ASSETS}/swagger-ui-bundle.js" defer></script><script src="${ASSETS}/docs.js" defer></script>
</head><body>
${docsHeader(info.title, info.version, 'rest')}
<main>
<div id="swagger-ui"><p class="docs-section">Loading the reference from <a href="/api/openapi.json">/api/openapi.json</a>…</p>
<noscript><p class="docs-section">The interactive reference needs JavaScript. The contract itself is at <a href="/api/openapi.json">/api/openapi.json</a>.</p></noscript></div>
<section id="error-codes" class="docs-section"><h2>Error codes</h2>
<p>Every error is an RFC 9457 problem (<code>application/problem+json</code>) whose <code>code</code> is one of these; each code always comes with the same HTTP status.</p>
<table><thead><tr><th>code</th><th>status</th><th>title</th><th>KuCoin codes</th></tr></thead><tbody>${errors.join('')}</tbody></table>
</section>
</main></body></html>`;
}

/**
 * Starts Swagger UI on the served contract. The contract's `servers` name the default address; the
 * copy shown here names the gateway that served the page, so "Try it out" calls go back to it
 * (and stay inside the CSP's `default-src 'self'`). `validatorUrl: null`: Swagger UI would
 * otherwise send the contract to a public validator.
 */
export const DOCS_SCRIPT = `'use strict';
(function () {
  var root = document.getElementById('swagger-ui');
  fetch('/api/openapi.json', { headers: { accept: 'application/json' } })
    .then(function (response) {
      if (!response.ok) throw new Error('HTTP ' + response.status);
      return response.json();
    })
    .then(function (spec) {
      spec.servers = [{ url: window.location.origin, description: 'This gateway' }];
      window.ui = SwaggerUIBundle({
        spec: spec,
        dom_id: '#swagger-ui',
        layout: 'BaseLayout',
        presets: [SwaggerUIBundle.presets.apis],
        deepLinking: true,
        displayOperationId: true,
        displayRequestDuration: true,
        defaultModelsExpandDepth: 1,
        docExpansion: 'list',
        filter: true,
        queryConfigEnabled: false,
        validatorUrl: null
      });
    })
    .catch(function (error) {
      root.textContent = 'Could not load /api/openapi.json: ' + error.message;
    });
})();
`;

export const DOCS_STYLE = `body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1b1b}
.docs-bar{position:sticky;top:0;z-index:10;display:flex;flex-wrap:wrap;align-items:baseline;gap:.5rem 1.5rem;padding:.7rem 1.5rem;background:#1b2a3a;color:#fff}
.docs-bar .docs-title{font-weight:600;font-size:1.1rem}.docs-bar small{font-weight:400;opacity:.75}
.docs-bar nav{display:flex;flex-wrap:wrap;gap:1rem}.docs-bar a{color:#cfe3ff;text-decoration:none}
.docs-bar a:hover,.docs-bar a[aria-current]{color:#fff;text-decoration:underline}
.docs-section{max-width:1460px;margin:0 auto;padding:0 20px 1.5rem;box-sizing:border-box}
.docs-section table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
.docs-section td,.docs-section th{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
.docs-section th{background:#f3f5f7}
.docs-section code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.88em;background:#f3f5f7;padding:.05em .3em;border-radius:3px}
.docs-section pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:4px;padding:.6rem .8rem;overflow:auto;font-size:.85rem}
.docs-section pre code{background:none;padding:0}
.ws-message,.ws-operation{border:1px solid #d0d7de;border-radius:6px;padding:.2rem 1rem .6rem;margin:1rem 0}
.ws-direction{display:inline-block;font-size:.75rem;font-weight:600;border-radius:3px;padding:.1rem .4rem;margin-right:.4rem;color:#fff}
.ws-direction.send{background:#1f7a4d}.ws-direction.receive{background:#2458a6}
.ws-required{color:#b42318;font-size:.8em}
details>summary{cursor:pointer;margin:.3rem 0}
`;
