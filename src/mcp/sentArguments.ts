import type { RequestId } from '@modelcontextprotocol/server';
import { Lru } from '../core/lru.js';

/** How many noted calls a connection keeps unclaimed (a call refused before its handler runs never claims its own). */
const KEPT = 64;

/**
 * Tool arguments as the client sent them, where MCP's schema drops part of them: its parse of `tools/call` rebuilds
 * the arguments key by key and silently loses an own `__proto__` key. The core refuses every parameter an action
 * does not have, `__proto__` included (as the CLI and REST, which hand it the parsed JSON, show); so the adapters
 * note such arguments from the message as parsed from its text, by request id, and the call takes them from here.
 */
export class SentArguments {
  private readonly byId = new Lru<RequestId, Record<string, unknown>>(KEPT);

  /**
   * Notes the arguments of `message`, a JSON-RPC message (or batch) just parsed from its text, if MCP's schema would
   * drop part of them. A call under an id noted before replaces the note: ids may be used again once answered.
   */
  note(message: unknown): void {
    if (Array.isArray(message)) return message.forEach((each) => this.note(each));
    const { method, id, params } = (message ?? {}) as { method?: unknown; id?: unknown; params?: { arguments?: unknown } };
    if (method !== 'tools/call' || (typeof id !== 'string' && typeof id !== 'number')) return;
    this.byId.take(id);
    const args = params?.arguments;
    if (typeof args === 'object' && args !== null && Object.hasOwn(args, '__proto__')) this.byId.set(id, args as Record<string, unknown>);
  }

  /** The arguments noted for request `id`, taken off; undefined when the schema's copy is whole. */
  take(id: RequestId): Record<string, unknown> | undefined {
    return this.byId.take(id);
  }
}
