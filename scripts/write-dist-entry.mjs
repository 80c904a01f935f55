// What `npm run build` adds to tsc's output. tsc keeps the source tree's shape (dist/src/main.js,
// beside dist/generated/); `npm start` and the rollout scripts run `node dist/main.js`, so the
// build leaves this one-line entry there. It also writes both contracts as JSON (dist/contracts/),
// which a start reads instead of parsing the YAML; the compiled src/contract/documents.js does it, so the format
// is defined once.
import { writeFileSync } from 'node:fs';
import { writeBuiltContract } from '../dist/src/contract/documents.js';
import { asyncapiPath, openapiPath } from '../dist/src/paths.js';

writeFileSync(new URL('../dist/main.js', import.meta.url), "import './src/main.js';\n");
writeBuiltContract(openapiPath);
writeBuiltContract(asyncapiPath);
