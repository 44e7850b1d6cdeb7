// Regenerates docs/tools.md from the built code: `npm run docs`.
import { writeFileSync } from 'node:fs';
import { renderReference } from '../dist/mcp/reference.js';

writeFileSync(new URL('../docs/tools.md', import.meta.url), renderReference());
