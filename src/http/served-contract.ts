import type { JsonObject } from '../contract/documents.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/**
 * openapi.yaml as one gateway serves it at /api/openapi.json: the contract of THAT gateway. The file
 * describes a keyed gateway (every futures operation needs `Authorization: Bearer <key>`); a
 * gateway started without GATEWAY_API_KEYS (the demo, a loopback run) lets any caller in, so its
 * copy makes the key optional (`security: [{}, {gatewayApiKey: []}]`, OpenAPI 3.1 §4.8.10.2: an
 * empty requirement object means no authentication) and says so in `info`. Otherwise a mock or
 * validating proxy built from the served document (Prism with `--errors`) would answer 401 to
 * calls the gateway accepts. Admin operations keep their requirement: without ADMIN_API_KEYS
 * they answer 403 FORBIDDEN, which the file already documents.
 */
export function servedOpenApiDocument(openapi: JsonObject, options: { gatewayApiKeys: boolean }): JsonObject {
  if (options.gatewayApiKeys) return openapi;
  const paths: JsonObject = {};
  for (const [path, item] of Object.entries(openapi.paths as Record<string, JsonObject>)) {
    const served: JsonObject = { ...item };
    for (const method of METHODS) {
      const operation = item[method] as JsonObject | undefined;
      const security = operation?.security as Record<string, string[]>[] | undefined;
      if (!operation || !security?.some((requirement) => 'gatewayApiKey' in requirement)) continue;
      served[method] = { ...operation, security: [{}, ...security] };
    }
    paths[path] = served;
  }
  const info = openapi.info as JsonObject;
  return {
    ...openapi,
    info: {
      ...info,
      description:
        `${String(info.description ?? '').trimEnd()}\n\n` +
        '**This gateway runs without gateway API keys** (`GATEWAY_API_KEYS` is empty): the futures operations need no `Authorization` header, and a key sent anyway ' +
        'is not checked. Admin operations still need an admin key (`ADMIN_API_KEYS`); without one they ' +
        'answer `403` `FORBIDDEN`.\n',
      'x-gateway-api-keys': 'not-configured',
    },
    paths,
  };
}
