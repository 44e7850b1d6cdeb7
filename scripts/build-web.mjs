#!/usr/bin/env node
// Builds the dashboard (src/web/client) into dist/web/public: one script bundle, its style sheet and the page, all
// served by `serve --http` from the package itself (no CDN; works offline). esbuild only bundles and strips types;
// `npm run typecheck` checks the client's types (src/web/client/tsconfig.json, with the DOM's).
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const client = join(root, 'src/web/client');
const out = join(root, 'dist/web/public');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(client, 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const file of ['index.html', 'app.css']) copyFileSync(join(client, file), join(out, file));
