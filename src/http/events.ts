import type { Context } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { ResolvedActor } from '../core/context.js';
import type { Core } from '../core/core.js';
import { validation } from '../core/errors.js';
import type { EventRow } from '../store/schema.js';
import type { Env } from './env.js';
import { STREAM_DEFAULTS } from './streamDefaults.js';
import type { StreamOptions } from './streamDefaults.js';
import { StreamHub, control } from './streamHub.js';
import type { HubStream } from './streamHub.js';

/** `Last-Event-ID` (a reconnecting client) wins over `?after=` (the URL it first connected with), then the head. */
function startAfter(c: Context<Env>, head: number): number {
  const [field, value] = c.req.header('last-event-id') !== undefined ? ['Last-Event-ID', c.req.header('last-event-id')!] : ['after', c.req.query('after')];
  if (value === undefined || value === '') return head;
  if (!/^\d+$/.test(value.trim())) throw validation(field, `must be an event sequence number (a whole number ≥ 0), got '${value.slice(0, 40)}'`);
  return Number(value.trim());
}

/**
 * Why a stream opened at `since` must end at `event`: its token was revoked, its agent deleted, or the agent's level
 * or role changed (what it may see is decided at connection; reconnecting decides again). Events from before the
 * connection, replayed on resumption, end nothing.
 */
function endsAt(event: EventRow, since: number, tokenId: string, viewer: ResolvedActor): string | undefined {
  if (event.seq <= since) return undefined;
  if (event.type === 'token_revoked' && event.related_id === tokenId) return 'token revoked';
  if (viewer.kind !== 'agent' || event.related_id !== viewer.id) return undefined;
  if (event.type === 'agent_deleted') return 'agent deleted';
  if (event.type === 'agent_updated' && /"(level|role_definition)"/.test(event.data)) return 'permissions changed: reconnect';
  return undefined;
}

/**
 * `GET /events`: Server-Sent Events of the log, as the token's actor may see them. Written straight to the node
 * response (not a web stream per connection) so thousands of open streams stay cheap; one hub dispatches the log to
 * all of them (`streamHub.ts`); one timer sends every stream's keep-alive.
 */
export class EventStreams {
  private readonly hub: StreamHub;
  private readonly timer: NodeJS.Timeout;
  private closing = false;

  constructor(
    private readonly core: Core,
    private readonly options: StreamOptions = STREAM_DEFAULTS,
  ) {
    this.hub = new StreamHub(core.feed);
    this.timer = setInterval(() => {
      const text = control('keepalive', { at: new Date().toISOString() });
      for (const stream of this.hub.streams()) stream.send(text);
    }, options.keepAliveMs);
    this.timer.unref();
  }

  get size(): number {
    return this.hub.size;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  readonly handle = async (c: Context<Env>): Promise<Response> => {
    const { actor, tokenId } = c.var.auth;
    const viewer = await this.core.resolveActor(actor);
    const scope = await this.core.streamScope(actor, viewer, { agent_id: c.req.query('agent_id'), team_id: c.req.query('team_id') });
    const head = await this.core.feed.head();
    const after = startAfter(c, head);
    const res = c.env.outgoing;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // nginx buffers responses unless told otherwise; a buffered stream pushes nothing.
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: ${this.options.retryMs}\n${control('connected', { actor: { kind: viewer.kind, id: viewer.id }, stream: scope.name, after, keepalive_seconds: this.options.keepAliveMs / 1000 })}`);
    const { maxBufferedBytes } = this.options;
    const stream: HubStream = {
      agentId: scope.agentId,
      wants: scope.wants,
      endsAt: (event) => endsAt(event, head, tokenId, viewer),
      tokenId,
      viewerId: viewer.kind === 'agent' ? viewer.id : undefined,
      cursor: after,
      send(text) {
        res.write(text);
        if (res.writableLength > maxBufferedBytes) res.destroy();
      },
      end: (text) => res.end(text),
    };
    res.on('close', () => this.hub.remove(stream));
    await this.hub.add(stream);
    // A client that hung up while the hub was adding it is gone for good.
    if (res.destroyed) this.hub.remove(stream);
    return RESPONSE_ALREADY_SENT;
  };

  /** Ends every stream with a final `closing` event (the server is stopping); new streams are refused meanwhile. */
  closeAll(reason: string): void {
    this.closing = true;
    clearInterval(this.timer);
    const streams = [...this.hub.streams()];
    this.hub.close();
    for (const stream of streams) stream.end(control('closing', { reason, resume: 'reconnect with Last-Event-ID' }));
  }
}
