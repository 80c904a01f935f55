/**
 * Regenerates `generated/` from the contract: REST types from openapi.yaml (openapi-typescript),
 * WebSocket message types from the asyncapi.yaml message payloads (json-schema-to-typescript), and
 * a typed client over both (openapi-fetch for REST).
 *
 *   tsx scripts/gen.ts           write the files
 *   tsx scripts/gen.ts --check   write nothing; exit 1 naming each stale or missing file
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import openapiTS, { astToString } from 'openapi-typescript';
import { parse } from 'yaml';
import { asyncapiPath, openapiPath, projectRoot } from '../src/paths.js';

type Json = { [key: string]: unknown };

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const header = (source: string) =>
  `// Generated from ${source} by \`npm run gen\` (scripts/gen.ts). Do not edit: change ${source} and regenerate.\n\n`;

async function openapiTypes(): Promise<string> {
  const ast = await openapiTS(pathToFileURL(openapiPath), { silent: true });
  return header('openapi.yaml') + astToString(ast);
}

/** Follows a chain of local `$ref`s (`#/a/b`) from `node`. */
function follow(doc: Json, node: unknown): Json {
  while (isObject(node) && typeof node.$ref === 'string') {
    const ref = node.$ref;
    if (!ref.startsWith('#/')) throw new Error(`asyncapi.yaml: expected a local $ref, got ${ref}`);
    node = ref
      .slice(2)
      .split('/')
      .reduce<unknown>((at, key) => (isObject(at) ? at[key.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), doc);
  }
  if (!isObject(node)) throw new Error('asyncapi.yaml: a $ref points at nothing');
  return node;
}

/**
 * The message payloads of asyncapi.yaml, described by their message's summary, split by who sends
 * them. The document describes the gateway, so `send` operations (and replies to `receive` ones)
 * are server messages.
 */
function messagesByDirection(doc: Json): { server: Json[]; client: Json[] } {
  const server = new Map<string, Json>();
  const client = new Map<string, Json>();
  for (const operation of Object.values(doc.operations as Record<string, Json>)) {
    const [own, replies] = operation.action === 'send' ? [server, client] : [client, server];
    const reply = operation.reply as Json | undefined;
    for (const [target, refs] of [[own, operation.messages], [replies, reply?.messages]] as const) {
      for (const ref of (refs ?? []) as unknown[]) {
        const message = follow(doc, ref);
        const payload = follow(doc, message.payload);
        const type = follow(doc, (payload.properties as Json).type).const;
        if (typeof type !== 'string') throw new Error('asyncapi.yaml: a message payload has no `type` const');
        target.set(type, { ...payload, description: payload.description ?? message.summary });
      }
    }
  }
  return { server: [...server.values()], client: [...client.values()] };
}

const typeName = (payload: Json) =>
  String((payload.properties as Json & { type: { const: string } }).type.const)
    .split('_')
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('') + 'Message';

/** A name that would shadow a global (`Symbol`) stays qualified instead of getting an alias. */
const qualified = (name: string) => (name in globalThis ? `components["schemas"]["${name}"]` : name);

async function wsMessageTypes(): Promise<string> {
  const doc = parse(await readFile(asyncapiPath, 'utf8')) as Json;
  const definitions: Record<string, JSONSchema> = {};
  const openapiSchemas = new Set<string>();

  // Local schemas become `definitions`; schemas of openapi.yaml become the openapi-typescript type,
  // so a Position here is the very type the REST handlers use.
  function rewrite(node: unknown): unknown {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!isObject(node)) return node;
    if (typeof node.$ref === 'string') {
      const [file, pointer = ''] = node.$ref.split('#');
      const name = pointer.match(/^\/components\/schemas\/([A-Za-z0-9_]+)$/)?.[1];
      if (!name) throw new Error(`asyncapi.yaml: unsupported $ref ${node.$ref}`);
      if (file === './openapi.yaml') {
        openapiSchemas.add(name);
        return { tsType: qualified(name) };
      }
      if (file !== '') throw new Error(`asyncapi.yaml: unsupported $ref ${node.$ref}`);
      if (!(name in definitions)) {
        definitions[name] = {};
        definitions[name] = rewrite(follow(doc, node)) as JSONSchema;
      }
      return { $ref: `#/definitions/${name}` };
    }
    // Block-scalar descriptions end in a newline that would leave an empty line in the JSDoc.
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [key, key === 'description' && typeof value === 'string' ? value.trimEnd() : rewrite(value)]),
    );
  }

  const { server, client } = messagesByDirection(doc);
  const union = (payloads: Json[]) => ({ oneOf: payloads.map((p) => ({ $ref: `#/definitions/${typeName(p)}` })) });
  for (const payload of [...server, ...client]) definitions[typeName(payload)] = rewrite(payload) as JSONSchema;
  definitions.ServerMessage = union(server);
  definitions.ClientMessage = union(client);

  const body = await compile(
    { oneOf: [{ $ref: '#/definitions/ServerMessage' }, { $ref: '#/definitions/ClientMessage' }], definitions },
    'WsMessage',
    { bannerComment: '', additionalProperties: false, ignoreMinAndMaxItems: true, unreachableDefinitions: true, cwd: projectRoot },
  );
  const aliases = [...openapiSchemas]
    .filter((name) => qualified(name) === name)
    .map((name) => `export type ${name} = components["schemas"]["${name}"];\n`)
    .join('');
  return (
    header('asyncapi.yaml') +
    `import type { components } from "./openapi.js";\n\n` +
    aliases +
    '\n' +
    body.trim() +
    '\n\nexport type ServerMessageType = ServerMessage["type"];\nexport type ClientMessageType = ClientMessage["type"];\n'
  );
}

/**
 * The client module: openapi-fetch typed by `paths`, and the socket's messages with a guard that
 * narrows a parsed frame to `ServerMessage` by its `type`, so client code needs no casts.
 */
async function clientModule(): Promise<string> {
  const doc = parse(await readFile(asyncapiPath, 'utf8')) as Json;
  const serverTypes = messagesByDirection(doc).server.map((payload) => (payload.properties as Json & { type: { const: string } }).type.const);
  return (
    `// Generated from openapi.yaml and asyncapi.yaml by \`npm run gen\` (scripts/gen.ts). Do not edit: change the contracts and regenerate.\n\n` +
    `/**
 * A typed client of the gateway. REST: openapi-fetch over the paths of openapi.yaml, so
 * \`(await client.GET("/api/futures/positions")).data?.data\` is a \`Position[]\` and \`.error\` the
 * problem of the statuses the operation documents. WebSocket \`/ws/futures\`: the message types of
 * asyncapi.yaml, and \`parseServerMessage\` for a received frame.
 */
import createClient, { type Client, type ClientOptions } from "openapi-fetch";
import type { paths } from "./openapi.js";
import type { ClientMessage, ServerMessage } from "./ws-messages.js";

export type { components, operations, paths } from "./openapi.js";
export type * from "./ws-messages.js";

export type GatewayClient = Client<paths>;

/** \`baseUrl\` is the gateway's origin (\`http://127.0.0.1:3001\`); pass \`headers: { authorization: "Bearer <key>" }\` when it has GATEWAY_API_KEYS. */
export function createGatewayClient(options: ClientOptions = {}): GatewayClient {
  return createClient<paths>(options);
}

/** The \`type\` of every message the gateway sends on \`/ws/futures\`. */
export const serverMessageTypes: readonly ServerMessage["type"][] = ${JSON.stringify(serverTypes)};

const isServerMessageType = (type: unknown): type is ServerMessage["type"] => serverMessageTypes.some((known) => known === type);

/** Narrows a parsed frame to a server message by its \`type\`; the gateway's frames match asyncapi.yaml (checked in its tests). */
export function isServerMessage(value: unknown): value is ServerMessage {
  return typeof value === "object" && value !== null && "type" in value && isServerMessageType(value.type);
}

/** A text frame from \`/ws/futures\` as a server message; throws on anything else. */
export function parseServerMessage(text: string): ServerMessage {
  const value: unknown = JSON.parse(text);
  if (!isServerMessage(value)) throw new TypeError(\`not a /ws/futures server message: \${text.slice(0, 200)}\`);
  return value;
}

/** A client message as the text frame to send. */
export function clientMessageFrame(message: ClientMessage): string {
  return JSON.stringify(message);
}
`
  );
}

async function main(check: boolean): Promise<void> {
  const outputs: Record<string, string> = {
    [join(projectRoot, 'generated/openapi.ts')]: await openapiTypes(),
    [join(projectRoot, 'generated/ws-messages.ts')]: await wsMessageTypes(),
    [join(projectRoot, 'generated/client.ts')]: await clientModule(),
  };
  if (!check) {
    for (const [path, contents] of Object.entries(outputs)) {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, contents);
    }
    return;
  }
  const stale: string[] = [];
  for (const [path, contents] of Object.entries(outputs)) {
    const onDisk = await readFile(path, 'utf8').catch(() => undefined);
    if (onDisk !== contents) stale.push(relative(projectRoot, path) + (onDisk === undefined ? ' (missing)' : ''));
  }
  if (stale.length > 0) {
    console.error(`stale generated files, run \`npm run gen\`:\n  ${stale.join('\n  ')}`);
    process.exitCode = 1;
  } else {
    console.log('generated/ is up to date');
  }
}

await main(process.argv.includes('--check'));
