// tsc keeps the source tree's shape (dist/src/main.js, beside dist/generated/); design.md §12
// promises `node dist/main.js`, so the build leaves this one-line entry there.
import { writeFileSync } from 'node:fs';

writeFileSync(new URL('../dist/main.js', import.meta.url), "import './src/main.js';\n");
