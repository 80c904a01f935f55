import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project root: the nearest folder above this module that holds package.json.
 * Works the same from `src/` (tsx, vitest) and from `dist/src/` (npm start).
 */
function findProjectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'openapi.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('project root not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export const projectRoot = findProjectRoot();
export const openapiPath = join(projectRoot, 'openapi.yaml');
export const asyncapiPath = join(projectRoot, 'asyncapi.yaml');

/** Where `npm run build` puts a contract as JSON (see src/contract/documents.ts): dist/contracts/openapi.json. */
export const builtContractPath = (yamlPath: string): string => join(projectRoot, 'dist', 'contracts', basename(yamlPath).replace(/\.yaml$/, '.json'));
