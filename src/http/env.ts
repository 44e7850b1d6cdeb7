import type { HttpBindings } from '@hono/node-server';
import type { Authenticated } from '../core/tokens.js';

/** What every route of the app sees: the node request and response, and who the token says is calling. */
export interface Env {
  Bindings: HttpBindings;
  Variables: { auth: Authenticated };
}
