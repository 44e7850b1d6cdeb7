import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { concerns, mayView } from '../core/audience.js';
import type { Actor, ResolvedActor } from '../core/context.js';
import type { Core } from '../core/core.js';
import { denied, validation } from '../core/errors.js';
import { isLeadAgent } from '../core/roles.js';
import type { FeedSubscription } from '../store/feed.js';
import type { EventRow } from '../store/schema.js';
import type { Env } from './env.js';
import { STREAM_DEFAULTS } from './streamDefaults.js';
import type { StreamOptions } from './streamDefaults.js';


/** What a stream sends: whom it is for, and which events of the log. */
interface Scope {
  /** `agent:<id>` (what concerns that agent), `team:<id>` (everything in the team), or `all` (the owner's default). */
  name: string;
  wants(event: EventRow): boolean;
}

interface OpenStream {
  res: ServerResponse;
  subscription?: FeedSubscription;
  tokenId: string;
  viewer: ResolvedActor;
}

/** An event of the log as a stream frame: its sequence number is the SSE id, the event itself the data. */
const frames = new WeakMap<EventRow, string>();
function frameOf(event: EventRow): string {
  let frame = frames.get(event);
  if (frame === undefined) {
    const { data, ...rest } = event;
    frame = `id: ${event.seq}\ndata: ${JSON.stringify({ ...rest, data: JSON.parse(data || '{}') })}\n\n`;
    frames.set(event, frame);
  }
  return frame;
}

const control = (name: string, data: Record<string, unknown>) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

/** `Last-Event-ID` (a reconnecting client) wins over `?after=` (the URL it first connected with), then the head. */
async function startAfter(c: Context<Env>, core: Core): Promise<number> {
  const [field, value] = c.req.header('last-event-id') !== undefined ? ['Last-Event-ID', c.req.header('last-event-id')!] : ['after', c.req.query('after')];
  if (value === undefined || value === '') return core.feed.head();
  if (!/^\d+$/.test(value.trim())) throw validation(field, `must be an event sequence number (a whole number ≥ 0), got '${value.slice(0, 40)}'`);
  return Number(value.trim());
}

/**
 * Which events a stream carries. An agent hears what concerns it (`src/core/audience.ts`); `agent_id` asks for
 * another agent's stream (the owner, or a lead of its team); `team_id` for everything in a team (the owner, or a
 * lead of that team); the owner without either hears everything. Private events reach only those `mayView` allows.
 */
async function scopeOf(c: Context<Env>, core: Core, viewer: ResolvedActor): Promise<Scope> {
  const agentId = c.req.query('agent_id')?.toLowerCase();
  const teamRef = c.req.query('team_id');
  if (agentId && teamRef) throw validation('team_id', 'ask for one stream: agent_id (an agent’s) or team_id (a whole team), not both');
  const isLeadOf = (teamId: string) => viewer.kind === 'owner' || (viewer.agent.team_id === teamId && isLeadAgent(viewer.agent));
  if (agentId && agentId !== viewer.id) {
    const target = (await core.call(actorOf(viewer), 'team_agent', { action: 'get', agent_id: agentId })) as { id: string; team_id: string };
    if (!isLeadOf(target.team_id)) throw denied(`agent '${viewer.id}' may not follow the stream of agent '${target.id}': only that agent, a lead of its team or the owner may`, { agent_id: target.id });
    return { name: `agent:${target.id}`, wants: (e) => concerns(e, target.id) && mayView(e, viewer) };
  }
  if (teamRef !== undefined) {
    const team = (await core.call(actorOf(viewer), 'team_manage', { action: 'get', team_id: teamRef })) as { id: string };
    if (!isLeadOf(team.id)) throw denied(`agent '${viewer.id}' may not follow the whole team's stream: only a lead of the team or the owner may; without team_id you get what concerns you`, { team_id: team.id });
    return { name: `team:${team.id}`, wants: (e) => e.team_id === team.id && mayView(e, viewer) };
  }
  if (viewer.kind === 'owner') return { name: 'all', wants: () => true };
  return { name: `agent:${viewer.id}`, wants: (e) => concerns(e, viewer.id) && mayView(e, viewer) };
}

const actorOf = (viewer: ResolvedActor): Actor => (viewer.kind === 'owner' ? { kind: 'owner', name: viewer.id } : { kind: 'agent', id: viewer.id });

/**
 * Why a stream must end at `event`, if it must: its token was revoked, its agent deleted, or the agent's level or
 * role changed (what it may see is decided at connection; reconnecting decides again).
 */
function endsStream(stream: OpenStream, event: EventRow): string | undefined {
  if (event.type === 'token_revoked' && event.related_id === stream.tokenId) return 'token revoked';
  if (stream.viewer.kind !== 'agent' || event.related_id !== stream.viewer.id) return undefined;
  if (event.type === 'agent_deleted') return 'agent deleted';
  if (event.type === 'agent_updated' && /"(level|role_definition)"/.test(event.data)) return 'permissions changed: reconnect';
  return undefined;
}

/**
 * `GET /events`: Server-Sent Events of the log, as the token's actor may see them. Written straight to the node
 * response (not a web stream per connection) so thousands of open streams stay cheap; one timer sends every
 * stream's keep-alive.
 */
export class EventStreams {
  private readonly open = new Set<OpenStream>();
  private readonly timer: NodeJS.Timeout;
  private closing = false;

  constructor(
    private readonly core: Core,
    private readonly options: StreamOptions = STREAM_DEFAULTS,
  ) {
    this.timer = setInterval(() => this.broadcast(control('keepalive', { at: new Date().toISOString() })), options.keepAliveMs);
    this.timer.unref();
  }

  get size(): number {
    return this.open.size;
  }

  readonly handle = async (c: Context<Env>): Promise<Response> => {
    const { actor, tokenId } = c.var.auth;
    const viewer = await this.core.resolveActor(actor);
    const scope = await scopeOf(c, this.core, viewer);
    const after = await startAfter(c, this.core);
    const res = c.env.outgoing;
    const stream: OpenStream = { res, tokenId, viewer };
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // nginx buffers responses unless told otherwise; a buffered stream pushes nothing.
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: ${this.options.retryMs}\n${control('connected', { actor: { kind: viewer.kind, id: viewer.id }, stream: scope.name, after, keepalive_seconds: this.options.keepAliveMs / 1000 })}`);
    this.open.add(stream);
    res.on('close', () => this.drop(stream));
    stream.subscription = this.core.feed.subscribe(after, (events) => {
      let out = '';
      for (const event of events) {
        const reason = endsStream(stream, event);
        if (reason) return this.end(stream, out + control('closing', { reason }));
        if (scope.wants(event)) out += frameOf(event);
      }
      if (out) this.send(stream, out);
    });
    return RESPONSE_ALREADY_SENT;
  };

  /** Ends every stream with a final `closing` event (the server is stopping); new streams are refused meanwhile. */
  closeAll(reason: string): void {
    this.closing = true;
    clearInterval(this.timer);
    for (const stream of [...this.open]) this.end(stream, control('closing', { reason, resume: 'reconnect with Last-Event-ID' }));
  }

  get isClosing(): boolean {
    return this.closing;
  }

  private send(stream: OpenStream, text: string) {
    stream.res.write(text);
    if (stream.res.writableLength > this.options.maxBufferedBytes) stream.res.destroy();
  }

  private broadcast(text: string) {
    for (const stream of this.open) this.send(stream, text);
  }

  private end(stream: OpenStream, text: string) {
    this.drop(stream);
    stream.res.end(text);
  }

  private drop(stream: OpenStream) {
    stream.subscription?.close();
    this.open.delete(stream);
  }
}
