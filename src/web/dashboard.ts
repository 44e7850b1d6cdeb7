import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context, Hono } from 'hono';
import type { Env } from '../http/env.js';

/**
 * The page's only sources are this server's own files: no inline script or style, no eval, no other origin. Agents
 * write most of what the page shows; were any of it ever to reach the DOM as markup, the browser would still refuse
 * to run it.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** Where `npm run build` puts the bundle (scripts/build-web.mjs): beside this module, in the package. */
const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/**
 * Serves the dashboard (`/`, its script and style sheet) from the files built into the package — no CDN, so it
 * works offline. They are public: the page signs in with a token the person pastes and calls the REST API and
 * `/events` with it, like any other client. Read once, at start.
 */
export function mountDashboard(app: Hono<Env>, publicDir = PUBLIC_DIR): void {
  const files = new Map<string, string>();
  for (const name of Object.keys(TYPES)) {
    const path = publicDir + name;
    if (existsSync(path)) files.set(name, readFileSync(path, 'utf8'));
  }
  const serve = (name: string) => (c: Context<Env>) => {
    const body = files.get(name);
    if (body === undefined) return c.text('the dashboard is not built: run `npm run build`', 503);
    c.header('Content-Type', TYPES[name]!);
    c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cache-Control', 'no-cache');
    return c.body(body);
  };
  app.get('/', serve('index.html'));
  app.get('/index.html', serve('index.html'));
  app.get('/app.js', serve('app.js'));
  app.get('/app.css', serve('app.css'));
}
