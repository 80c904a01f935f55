import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { ClientMessage } from '../../generated/ws-messages.js';
import type { JsonObject } from '../contract/documents.js';

export type ClientVerdict =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: 'INVALID_MESSAGE' | 'UNKNOWN_TYPE'; message: string };

export type ClientMessageValidator = (value: unknown) => ClientVerdict;

/**
 * Validates client messages against the payload schemas of asyncapi.yaml's `receive` operations
 * (the document describes the gateway: it receives what clients send), so the socket accepts
 * exactly what the contract says. Expects the bundled document (no external refs).
 */
export function createClientMessageValidator(asyncapi: JsonObject): ClientMessageValidator {
  // validateSchema: false skips checking the whole document against ajv's meta-schema at every
  // start (~25 ms, benchmark 4); `npm run lint:spec` checks the document once, in CI.
  const ajv = new Ajv({ strict: false, allErrors: false, validateSchema: false });
  addFormats.default(ajv);
  ajv.addSchema(asyncapi, 'asyncapi');

  const byType = new Map<string, ValidateFunction>();
  const operations = (asyncapi.operations ?? {}) as Record<string, JsonObject>;
  for (const operation of Object.values(operations)) {
    if (operation.action !== 'receive') continue;
    for (const ref of (operation.messages ?? []) as { $ref: string }[]) {
      const { pointer, node } = follow(asyncapi, ref.$ref);
      const payload = (node as JsonObject).payload as JsonObject;
      const payloadSchema = payload.$ref ? follow(asyncapi, payload.$ref as string).node : payload;
      const type = ((payloadSchema as JsonObject).properties as Record<string, { const?: string }> | undefined)?.type?.const;
      if (typeof type !== 'string') throw new Error(`asyncapi.yaml: client message ${pointer} has no type const`);
      byType.set(type, ajv.compile({ $ref: `asyncapi#${pointer}/payload` }));
    }
  }
  if (byType.size === 0) throw new Error('asyncapi.yaml describes no client (receive) message');

  return (value) => {
    const type = (value as { type?: unknown } | null)?.type;
    if (value === null || typeof value !== 'object' || Array.isArray(value) || typeof type !== 'string') {
      return { ok: false, code: 'INVALID_MESSAGE', message: 'Messages must be JSON objects with a string "type".' };
    }
    const validate = byType.get(type);
    if (!validate) {
      return { ok: false, code: 'UNKNOWN_TYPE', message: `Unknown message type "${type}"; expected one of ${[...byType.keys()].join(', ')}.` };
    }
    if (!validate(value)) {
      const detail = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join('; ');
      return { ok: false, code: 'INVALID_MESSAGE', message: `Invalid ${type} message: ${detail}` };
    }
    return { ok: true, message: value as ClientMessage };
  };
}

/** Follows local `$ref`s until a non-ref node; returns that node and its JSON pointer. */
function follow(doc: JsonObject, ref: string): { pointer: string; node: unknown } {
  let pointer = ref.replace(/^#/, '');
  let node = resolve(doc, pointer);
  for (let hops = 0; typeof (node as JsonObject | undefined)?.$ref === 'string' && hops < 10; hops += 1) {
    pointer = ((node as JsonObject).$ref as string).replace(/^#/, '');
    node = resolve(doc, pointer);
  }
  if (node === undefined) throw new Error(`asyncapi.yaml: unresolvable ref ${ref}`);
  return { pointer, node };
}

function resolve(doc: JsonObject, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, key) => (node as JsonObject | undefined)?.[key], doc);
}
