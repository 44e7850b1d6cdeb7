// Writes dist/mcp/tools.json, the answer to tools/list, at build time: `serve` then answers it without loading
// the schemas (part of `npm run build`; a test checks it matches the code).
import { writeFileSync } from 'node:fs';
import { toolDefinitions } from '../dist/mcp/tools.js';

writeFileSync(new URL('../dist/mcp/tools.json', import.meta.url), JSON.stringify(toolDefinitions()));
