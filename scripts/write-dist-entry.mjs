// What `npm run build` adds to tsc's output (dist/src/, beside dist/generated/).
//
// 1. dist/main.js, the entry `npm start` and the rollout scripts run (`node dist/main.js`), is
//    tsc's dist/src/main.js bundled by esbuild with the packages it imports. A start was mostly
//    node loading modules: resolving ~100 own ES modules and ~440 package files one by one,
//    reading their package.json files and lexing every CommonJS file for its exports. One file
//    costs one read and one compile, ~130 ms less to `listening` (docs/performance.md, start).
//    Code reached only through `import()` (the Redis connection with ioredis, the WebSocket docs
//    page with marked) goes to dist/chunks/ and is still loaded only when used.
//    dist/src/ stays as tsc wrote it: `node dist/src/main.js` runs the same code unbundled.
// 2. Both contracts as JSON (dist/contracts/), which a start reads instead of parsing the YAML; the
//    compiled src/contract/documents.js does it, so the format is defined once.
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeBuiltContract } from '../dist/src/contract/documents.js';
import { asyncapiPath, openapiPath } from '../dist/src/paths.js';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
// Chunk names carry a hash: drop the last build's, or they pile up.
rmSync(`${dist}chunks`, { recursive: true, force: true });

const result = await build({
  entryPoints: { main: `${dist}src/main.js` },
  outdir: dist,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // CommonJS packages in an ES module bundle call `require` for node's built-ins; give each
  // output file one. Files read at run time are found from the project root (src/paths.ts looks
  // upwards from dist/ as from dist/src/), and createRequire in the code resolves from dist/.
  banner: { js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);" },
  // Names kept, not minified: stack traces in the logs stay readable.
  logLevel: 'silent',
});
// A warning means something esbuild could not follow (a computed require, say) that would break
// only at run time: fail the build instead.
if (result.warnings.length > 0) {
  for (const warning of result.warnings) console.error(`esbuild: ${warning.text} (${warning.location?.file ?? '?'}:${warning.location?.line ?? '?'})`);
  process.exit(1);
}

writeBuiltContract(openapiPath);
writeBuiltContract(asyncapiPath);
