import type { Context } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { concerns, mayView } from '../core/audience.js';
import type { Actor, ResolvedActor } from '../core/context.js';
import type { Core } from '../core/core.js';
import { denied, validation } from '../core/errors.js';
import { isLeadAgent } from '../core/roles.js';
import type { EventRow } from '../store/schema.js';
import type { Env } from './env.js';
import { STREAM_DEFAULTS } from './streamDefaults.js';
import type { StreamOptions } from './streamDefaults.js';
import { StreamHub, control } from './streamHub.js';
import type { HubStream } from './streamHub.js';

/** What a stream sends: whom it is for, and which events of the log. */
interface Scope {
  /** `agent:<id>` (what concerns that agent), `team:<id>` (everything in the team), or `all` (the owner's default). */
  name: string;
  /** The agent whose concerns it carries; undefined for a team's or everything. */
  agentId: string | undefined;
  wants(event: EventRow): boolean;
}

/** `Last-Event-ID` (a reconnecting client) wins over `?after=` (the URL it first connected with), then the head. */
function startAfter(c: Context<Env>, head: number): number {
  const [field, value] = c.req.header('last-event-id') !== undefined ? ['Last-Event-ID', c.req.header('last-event-id')!] : ['after', c.req.query('after')];
  if (value === undefined || value === '') return head;
  if (!/^\d+$/.test(value.trim())) throw validation(field, `must be an event sequence number (a whole number ≥ 0), got '${value.slice(0, 40)}'`);
  return Number(value.trim());
}

/**
 * Which events a stream carries. An agent hears what concerns it (`src/core/audience.ts`); `agent_id` asks for
 * another agent's stream (the owner, or a lead of its team); `team_id` for everything in a team (the owner, or a
 * lead of that team); the owner without either hears everything. Private events reach only those `mayView` allows.
 */
async function scopeOf(c: Context<Env>, core: Core, actor: Actor, viewer: ResolvedActor): Promise<Scope> {
  const agentId = c.req.query('agent_id')?.toLowerCase();
  const teamRef = c.req.query('team_id');
  if (agentId && teamRef) throw validation('team_id', 'ask for one stream: agent_id (an agent’s) or team_id (a whole team), not both');
  const isLeadOf = (teamId: string) => viewer.kind === 'owner' || (viewer.agent.team_id === teamId && isLeadAgent(viewer.agent));
  const agentScope = (id: string): Scope => ({ name: `agent:${id}`, agentId: id, wants: (e) => concerns(e, id) && mayView(e, viewer) });
  if (agentId && agentId !== viewer.id) {
    const target = (await core.call(actor, 'team_agent', { action: 'get', agent_id: agentId })) as { id: string; team_id: string };
    if (!isLeadOf(target.team_id)) throw denied(`agent '${viewer.id}' may not follow the stream of agent '${target.id}': only that agent, a lead of its team or the owner may`, { agent_id: target.id });
    return agentScope(target.id);
  }
  if (teamRef !== undefined) {
    const team = (await core.call(actor, 'team_manage', { action: 'get', team_id: teamRef })) as { id: string };
    if (!isLeadOf(team.id)) throw denied(`agent '${viewer.id}' may not follow the whole team's stream: only a lead of the team or the owner may; without team_id you get what concerns you`, { team_id: team.id });
    return { name: `team:${team.id}`, agentId: undefined, wants: (e) => e.team_id === team.id && mayView(e, viewer) };
  }
  if (viewer.kind === 'owner') return { name: 'all', agentId: undefined, wants: () => true };
  return agentScope(viewer.id);
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
    const scope = await scopeOf(c, this.core, actor, viewer);
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
