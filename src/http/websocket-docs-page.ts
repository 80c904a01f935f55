import { marked } from 'marked';
import type { JsonObject } from '../contract/documents.js';
import { ASSETS, docsHeader, escapeHtml } from './docs-page.js';

type Json = Record<string, any>;

/**
 * Markdown as HTML. The text comes from the gateway's own contract, not from callers, so marked's
 * output is used as it is. CommonMark plus GFM tables (the channel's close-code table is one).
 */
const markdown = (text: unknown): string => (typeof text === 'string' && text.trim() ? (marked.parse(text, { async: false, gfm: true }) as string) : '');
const inlineMarkdown = (text: unknown): string => (typeof text === 'string' ? (marked.parseInline(text, { async: false, gfm: true }) as string) : '');

const json = (value: unknown) => `<pre><code>${escapeHtml(JSON.stringify(value, null, 2))}</code></pre>`;
const anchor = (kind: string, name: string) => `${kind}-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/**
 * The WebSocket contract (the bundled AsyncAPI document served at /api/asyncapi.json) as a page:
 * the channel and its close codes, the operations in each direction, and every message with its
 * payload's members, examples and full schema. Rendered on the server from the document, so it
 * needs no script at all.
 */
export function renderWebSocketDocsPage(asyncapi: JsonObject): string {
  const doc = asyncapi as Json;
  const resolve = (node: Json | undefined): Json | undefined => {
    for (let hops = 0; node && typeof node.$ref === 'string' && hops < 16; hops++) node = pointer(doc, node.$ref);
    return node;
  };
  const messageKey = (node: Json): string | undefined => {
    // A message is named by the key it has under components.messages, whichever way it is reached.
    const target = resolve(node);
    return Object.entries<Json>(doc.components?.messages ?? {}).find(([, m]) => m === target)?.[0];
  };
  const messageLink = (node: Json) => {
    const key = messageKey(node);
    const message = resolve(node);
    return key ? `<a href="#${anchor('message', key)}"><code>${escapeHtml(message?.name ?? key)}</code></a>` : '';
  };

  const info = doc.info as Json;
  const sections: string[] = [];

  sections.push(`<h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1>${markdown(info.description)}`);

  const servers = Object.entries<Json>(doc.servers ?? {}).map(
    ([name, s]) => `<tr><td>${escapeHtml(name)}</td><td><code>${escapeHtml(`${s.protocol}://${s.host}${s.pathname ?? ''}`)}</code></td><td>${markdown(s.description)}</td></tr>`,
  );
  if (servers.length) sections.push(`<h2 id="servers">Servers</h2><table><thead><tr><th>name</th><th>address</th><th>notes</th></tr></thead><tbody>${servers.join('')}</tbody></table>`);

  for (const [name, channel] of Object.entries<Json>(doc.channels ?? {})) {
    const closeCodes = (channel['x-close-codes'] ?? []) as Json[];
    const upgradeHeaders = channel.bindings?.ws?.headers as Json | undefined;
    sections.push(
      `<h2 id="${anchor('channel', name)}">Channel <code>${escapeHtml(channel.address)}</code></h2>` +
        `<p><strong>${escapeHtml(channel.title ?? name)}</strong>${channel.summary ? `: ${inlineMarkdown(channel.summary)}` : ''}</p>` +
        markdown(channel.description) +
        (upgradeHeaders ? `<h3>Upgrade request headers</h3>${propertyTable(upgradeHeaders, resolve)}` : '') +
        (closeCodes.length
          ? `<h3 id="close-codes">Close codes</h3><table><thead><tr><th>code</th><th>name</th><th>meaning</th></tr></thead><tbody>` +
            closeCodes.map((c) => `<tr><td><code>${escapeHtml(c.code)}</code></td><td>${escapeHtml(c.name)}</td><td>${inlineMarkdown(c.description)}</td></tr>`).join('') +
            '</tbody></table>'
          : ''),
    );
  }

  const operations = Object.entries<Json>(doc.operations ?? {});
  for (const [action, heading] of [
    ['send', 'Server to client'],
    ['receive', 'Client to server'],
  ] as const) {
    const rows = operations
      .filter(([, op]) => op.action === action)
      .map(
        ([id, op]) =>
          `<div class="ws-operation" id="${anchor('operation', id)}"><h3><span class="ws-direction ${action}">${action}</span>${escapeHtml(op.title ?? id)} <small><code>${escapeHtml(id)}</code></small></h3>` +
          `${op.summary ? `<p>${inlineMarkdown(op.summary)}</p>` : ''}${markdown(op.description)}` +
          `<p>Message: ${(op.messages ?? []).map(messageLink).join(', ')}` +
          (op.reply ? `; answered with ${(op.reply.messages ?? []).map(messageLink).join(' or ')}` : '') +
          '</p></div>',
      );
    if (rows.length) sections.push(`<h2 id="${action}">${heading}</h2>${rows.join('')}`);
  }

  const messages = Object.entries<Json>(doc.components?.messages ?? {}).map(([key, m]) => {
    const payload = resolve(m.payload) ?? {};
    const examples = ((m.examples ?? []) as Json[]).map(
      (e) => `<h4>Example${e.name ? ` <code>${escapeHtml(e.name)}</code>` : ''}</h4>${e.summary ? `<p>${inlineMarkdown(e.summary)}</p>` : ''}${json(e.payload)}`,
    );
    return (
      `<div class="ws-message" id="${anchor('message', key)}"><h3><code>${escapeHtml(m.name ?? key)}</code> ${escapeHtml(m.title ?? '')}</h3>` +
      `${m.summary ? `<p>${inlineMarkdown(m.summary)}</p>` : ''}${markdown(m.description)}` +
      `<h4>Payload</h4>${propertyTable(payload, resolve)}${examples.join('')}` +
      `<details><summary>Payload schema (JSON Schema)</summary>${json(m.payload)}</details></div>`
    );
  });
  if (messages.length) sections.push(`<h2 id="messages">Messages</h2>${messages.join('')}`);

  const schemas = Object.entries<Json>(doc.components?.schemas ?? {}).map(
    ([name, s]) =>
      `<div class="ws-message" id="${anchor('schema', name)}"><h3><code>${escapeHtml(name)}</code></h3>${markdown(s.description)}` +
      `${s.type === 'object' ? propertyTable(s, resolve) : ''}<details><summary>JSON Schema</summary>${json(s)}</details></div>`,
  );
  if (schemas.length) sections.push(`<h2 id="schemas">Schemas</h2>${schemas.join('')}`);

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info.title)} ${escapeHtml(info.version)}: WebSocket reference</title>
<link rel="icon" type="image/png" href="${ASSETS}/favicon.png"><link rel="stylesheet" href="${ASSETS}/docs.css">
</head><body>
${docsHeader(info.title, info.version, 'websocket')}
<main class="docs-section">${sections.join('\n')}</main></body></html>`;
}

/** An object schema's members: name, type, whether required, and what it means. */
function propertyTable(schema: Json, resolve: (node: Json | undefined) => Json | undefined): string {
  const target = resolve(schema) ?? {};
  const required = new Set<string>(target.required ?? []);
  const rows = Object.entries<Json>(target.properties ?? {}).map(([name, property]) => {
    const described = property.description ?? resolve(property)?.description;
    return (
      `<tr><td><code>${escapeHtml(name)}</code>${required.has(name) ? ' <span class="ws-required">required</span>' : ''}</td>` +
      `<td>${typeOf(property, resolve)}</td><td>${markdown(described)}</td></tr>`
    );
  });
  if (rows.length === 0) return `<p>${typeOf(schema, resolve)}</p>`;
  return `<table><thead><tr><th>member</th><th>type</th><th>description</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function typeOf(schema: Json | undefined, resolve: (node: Json | undefined) => Json | undefined): string {
  if (!schema) return '';
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').pop()!;
    return `<a href="#${anchor('schema', name)}"><code>${escapeHtml(name)}</code></a>`;
  }
  if ('const' in schema) return `<code>${escapeHtml(JSON.stringify(schema.const))}</code>`;
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v: unknown) => `<code>${escapeHtml(JSON.stringify(v))}</code>`).join(', ')}`;
  for (const combiner of ['oneOf', 'anyOf'] as const) {
    if (Array.isArray(schema[combiner])) return (schema[combiner] as Json[]).map((s) => typeOf(s, resolve)).join(' or ');
  }
  const types = Array.isArray(schema.type) ? schema.type.join(' or ') : schema.type;
  if (types === 'array') return `array of ${typeOf(schema.items, resolve)}`;
  const limits = [
    schema.format,
    schema.minimum !== undefined ? `≥ ${schema.minimum}` : undefined,
    schema.maximum !== undefined ? `≤ ${schema.maximum}` : undefined,
    schema.maxLength !== undefined ? `at most ${schema.maxLength} characters` : undefined,
    schema.pattern !== undefined ? `matching <code>${escapeHtml(schema.pattern)}</code>` : undefined,
  ].filter(Boolean);
  return `${escapeHtml(types ?? 'any')}${limits.length ? ` (${limits.join(', ')})` : ''}`;
}

/** A local JSON pointer (RFC 6901) into the document. */
function pointer(doc: Json, ref: string): Json | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: any = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    node = node?.[key];
  }
  return node;
}
