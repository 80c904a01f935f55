import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DOCS_SCRIPT, DOCS_STYLE } from './docs-page.js';

export interface DocsAsset {
  contentType: string;
  body: Buffer;
}

const require = createRequire(import.meta.url);

/** Where npm put swagger-ui-dist: the page is served from the installed package, never a CDN. */
const swaggerUiDir = () => dirname(require.resolve('swagger-ui-dist/package.json'));

const sources: Record<string, { contentType: string; read: () => Buffer }> = {
  'swagger-ui-bundle.js': { contentType: 'application/javascript; charset=utf-8', read: () => readFileSync(join(swaggerUiDir(), 'swagger-ui-bundle.js')) },
  'swagger-ui.css': { contentType: 'text/css; charset=utf-8', read: () => readFileSync(join(swaggerUiDir(), 'swagger-ui.css')) },
  'favicon.png': { contentType: 'image/png', read: () => readFileSync(join(swaggerUiDir(), 'favicon-32x32.png')) },
  'docs.js': { contentType: 'application/javascript; charset=utf-8', read: () => Buffer.from(DOCS_SCRIPT) },
  'docs.css': { contentType: 'text/css; charset=utf-8', read: () => Buffer.from(DOCS_STYLE) },
};

/**
 * The reference page's files by name. Each is read on its first request and kept: a gateway that
 * never serves its docs never reads the 1.7 MB bundle, and one that does reads it once.
 */
export function docsAssets(): (name: string) => DocsAsset | undefined {
  const cache = new Map<string, DocsAsset>();
  return (name) => {
    const source = Object.hasOwn(sources, name) ? sources[name] : undefined;
    if (!source) return undefined;
    let asset = cache.get(name);
    if (!asset) {
      asset = { contentType: source.contentType, body: source.read() };
      cache.set(name, asset);
    }
    return asset;
  };
}
