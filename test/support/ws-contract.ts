/**
 * The WebSocket contract as the tests see it: every message a WS test sends or receives is checked
 * against the payload schema that asyncapi.yaml gives its `type`, so a message the contract does not
 * describe fails the test.
 *
 *   const msg = JSON.parse(frame.toString());
 *   assertServerMessage(msg); // msg is now a ServerMessage
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import type { ClientMessage, ServerMessage } from '../../generated/ws-messages.js';
import { asyncapiPath, openapiPath } from '../../src/paths.js';

type Json = { [key: string]: unknown };

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const asyncapi = parse(readFileSync(asyncapiPath, 'utf8')) as Json;

// Both documents are registered under their file URLs, so asyncapi.yaml's `./openapi.yaml#/...`
// refs resolve the way they do for the AsyncAPI parser. strict is off because the documents carry
// annotations ajv does not know (OpenAPI's `example`, `x-*` extensions).
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, logger: false });
addFormats.default(ajv);
ajv.addSchema(asyncapi, pathToFileURL(asyncapiPath).href);
ajv.addSchema(parse(readFileSync(openapiPath, 'utf8')) as Json, pathToFileURL(openapiPath).href);

/** Follows local `$ref`s (`#/a/b`) from `node`; returns the target and its JSON pointer. */
function follow(node: unknown, pointer = ''): { node: Json; pointer: string } {
  while (isObject(node) && typeof node.$ref === 'string') {
    if (!node.$ref.startsWith('#/')) throw new Error(`asyncapi.yaml: expected a local $ref, got ${node.$ref}`);
    pointer = node.$ref.slice(1);
    node = pointer
      .slice(1)
      .split('/')
      .reduce<unknown>((at, key) => (isObject(at) ? at[key.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), asyncapi);
  }
  if (!isObject(node)) throw new Error(`asyncapi.yaml: nothing at ${pointer}`);
  return { node, pointer };
}

/**
 * One validator per message `type`, split by who sends it. The document describes the gateway, so
 * `send` operations (and replies to `receive` ones) are server messages.
 */
function validatorsByDirection(): { server: Map<string, ValidateFunction>; client: Map<string, ValidateFunction> } {
  const server = new Map<string, ValidateFunction>();
  const client = new Map<string, ValidateFunction>();
  for (const operation of Object.values(asyncapi.operations as Record<string, Json>)) {
    const [own, replies] = operation.action === 'send' ? [server, client] : [client, server];
    const reply = operation.reply as Json | undefined;
    for (const [target, refs] of [[own, operation.messages], [replies, reply?.messages]] as const) {
      for (const ref of (refs ?? []) as unknown[]) {
        const message = follow(ref);
        const payload = follow(message.node.payload).node;
        const name = isObject(payload.properties) && isObject(payload.properties.type) ? payload.properties.type.const : undefined;
        if (typeof name !== 'string') throw new Error(`asyncapi.yaml: ${message.pointer} has no \`type\` const`);
        const id = `${pathToFileURL(asyncapiPath).href}#${message.pointer}/payload`;
        target.set(name, ajv.getSchema(id) ?? missing(id));
      }
    }
  }
  return { server, client };
}

const missing = (id: string): never => {
  throw new Error(`asyncapi.yaml: no schema at ${id}`);
};

const validators = validatorsByDirection();

/** The `type` of every message the gateway may send, in document order. */
export const serverMessageTypes: readonly string[] = [...validators.server.keys()];
/** The `type` of every message a client may send, in document order. */
export const clientMessageTypes: readonly string[] = [...validators.client.keys()];

function check(direction: 'server' | 'client', msg: unknown): void {
  const byType = validators[direction];
  const type = isObject(msg) ? msg.type : undefined;
  const validate = typeof type === 'string' ? byType.get(type) : undefined;
  if (!validate) {
    throw new Error(
      `not a ${direction} message of asyncapi.yaml: type ${JSON.stringify(type)} is not one of ${[...byType.keys()].join(', ')}\n` +
        `message: ${JSON.stringify(msg)}`,
    );
  }
  if (!validate(msg)) {
    throw new Error(
      `${direction} message "${type}" does not match asyncapi.yaml:\n${describe(validate.errors ?? [])}\n` +
        `message: ${JSON.stringify(msg)}`,
    );
  }
}

const describe = (errors: ErrorObject[]) =>
  errors.map((e) => `  ${e.instancePath || '/'} ${e.message ?? 'is invalid'} ${JSON.stringify(e.params)}`).join('\n');

/** Throws, naming each violation, unless `msg` is a server message as asyncapi.yaml describes it. */
export function assertServerMessage(msg: unknown): asserts msg is ServerMessage {
  check('server', msg);
}

/** Throws, naming each violation, unless `msg` is a client message as asyncapi.yaml describes it. */
export function assertClientMessage(msg: unknown): asserts msg is ClientMessage {
  check('client', msg);
}
