import { describe, expect, it } from 'vitest';
import { compileValidatorsSoon, createOpenApiBackend } from '../../src/http/openapi-backend.js';
import { loadOpenApiDocument } from '../../src/contract/documents.js';

const doc = (paths: Record<string, unknown>) => ({ openapi: '3.1.0', info: { title: 't', version: '1' }, paths });

describe('createOpenApiBackend', () => {
  it('refuses to start when the spec routes no operation', async () => {
    await expect(createOpenApiBackend(doc({}))).rejects.toThrow(/routed no operation/);
  });

  it('routes every operation of openapi.yaml, 3.1 constructs included', async () => {
    const api = await createOpenApiBackend(loadOpenApiDocument());
    expect(api.getOperations().map((op) => op.operationId)).toContain('createOrder');
    expect(api.getOperations()).toHaveLength(22);
  });

  it("compiles every operation's request validators (what the gateway does just after it listens)", async () => {
    const api = await createOpenApiBackend(loadOpenApiDocument());
    await compileValidatorsSoon(api);
    for (const op of api.getOperations()) {
      expect(api.validator.requestValidators[op.operationId!], op.operationId).toBeDefined();
    }
  });

  it('checks formats (ajv-formats is wired in)', async () => {
    const api = await createOpenApiBackend(
      doc({
        '/x': {
          get: {
            operationId: 'x',
            parameters: [{ name: 'at', in: 'query', required: true, schema: { type: 'string', format: 'date-time' } }],
            responses: { '200': { description: 'ok' } },
          },
        },
      }),
    );
    const valid = api.validateRequest({ method: 'get', path: '/x', query: { at: '2026-11-27T03:00:00Z' }, headers: {} });
    const invalid = api.validateRequest({ method: 'get', path: '/x', query: { at: 'yesterday' }, headers: {} });
    expect(valid.valid).toBe(true);
    expect(invalid.valid).toBe(false);
  });

  it('memoises the operation list (routing does not rebuild it per request)', async () => {
    const api = await createOpenApiBackend(loadOpenApiDocument());
    expect(api.router.getOperations()).toBe(api.router.getOperations());
  });

  it('gives a handler that runs before a match (404) the parse openapi-backend makes, made when it is read', async () => {
    const api = await createOpenApiBackend(
      doc({ '/x': { get: { operationId: 'x', responses: { '200': { description: 'ok' } } } } }),
    );
    const seen: Record<string, unknown> = {};
    api.register({
      x: (c) => {
        seen.routed = { path: c.request.path, query: c.request.query };
        return 'x';
      },
      notFound: (c) => {
        seen.unrouted = { method: c.request.method, path: c.request.path, query: c.request.query, cookies: c.request.cookies, headers: c.request.headers };
        return 'notFound';
      },
    });
    const request = { method: 'GET', path: '/nowhere', query: 'a=1&b=two', headers: { cookie: 'k=v', 'x-y': 'z' } };
    expect(await api.handleRequest(request)).toBe('notFound');
    expect(seen.unrouted).toEqual({ method: 'get', path: '/nowhere', query: { a: '1', b: 'two' }, cookies: { k: 'v' }, headers: { cookie: 'k=v', 'x-y': 'z' } });
    expect(await api.handleRequest({ ...request, path: '/x', query: '' })).toBe('x');
    expect(seen.routed).toEqual({ path: '/x', query: {} });
  });
});
