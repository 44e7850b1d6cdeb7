import type { EventRow } from '../store/schema.js';
import type { ResolvedActor } from './context.js';
import { isLeadAgent } from './roles.js';

/**
 * Whom an event of the log is for, and who may see it. Push streams, resource subscriptions and the runner's
 * active wakes all decide by it, so an event reaches the same agents whichever way it travels.
 */
export interface Audience {
  /** The agents the event is addressed to or about: they hear of it at once (push, wakes). */
  concerns: string[];
  /**
   * `team`: anyone in the team may see it. `private`: only the agents it concerns, its actor, and the team's owner
   * and leads — a direct message, a notification for one agent, a mention, one agent's mail or working state.
   */
  visibility: 'team' | 'private';
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '') : []);
const one = (value: unknown): string[] => (typeof value === 'string' && value ? [value] : []);

type AudienceOf = Pick<EventRow, 'type' | 'related_id' | 'data'>;

/**
 * Worked out once per event object: the feed hands the same row to every subscriber, and a server with thousands
 * of open streams would otherwise parse its data thousands of times.
 */
const known = new WeakMap<AudienceOf, Audience>();

export function audienceOf(event: AudienceOf): Audience {
  let audience = known.get(event);
  if (!audience) known.set(event, (audience = audienceFromData(event)));
  return audience;
}

function audienceFromData(event: AudienceOf): Audience {
  const data = JSON.parse(event.data || '{}') as Record<string, unknown>;
  switch (event.type) {
    case 'message_sent':
      return { concerns: list(data.recipients), visibility: data.to_agent ? 'private' : 'team' };
    case 'mention':
      // The event cannot tell a thread post from a direct message: kept to whom it names.
      return { concerns: one(data.agent_id), visibility: 'private' };
    case 'notification_sent':
      return { concerns: one(data.to_agent), visibility: data.to_agent ? 'private' : 'team' };
    case 'task_assigned':
      return { concerns: list(data.assignees), visibility: 'team' };
    case 'task_reassigned':
      return { concerns: one(data.to_agent), visibility: 'team' };
    case 'task_lease_expired':
    case 'task_released':
      return { concerns: one(data.holder), visibility: 'team' };
    case 'working_updated':
    case 'working_cleared':
    case 'messages_archived':
    case 'messages_read':
    case 'mail_handed_out':
    case 'mail_acknowledged':
    case 'notifications_read':
      return { concerns: one(event.related_id), visibility: 'private' };
    case 'agent_wake':
    case 'agent_wake_requested':
    // A wake for the agent's open stream (the runner's sse adapter) or a request of one; a token made or revoked.
    case 'token_created':
    case 'token_revoked':
      return { concerns: one(data.agent_id), visibility: 'private' };
    default:
      return { concerns: [], visibility: 'team' };
  }
}

/** Whether `event` is addressed to or about `agentId`. */
export const concerns = (event: Pick<EventRow, 'type' | 'related_id' | 'data'>, agentId: string): boolean => audienceOf(event).concerns.includes(agentId);

/** Whether `viewer` may see `event`: the owner sees all; an agent its own team's events, private ones only when they are its. */
export function mayView(event: Pick<EventRow, 'type' | 'related_id' | 'data' | 'team_id' | 'agent_id'>, viewer: ResolvedActor): boolean {
  if (viewer.kind === 'owner') return true;
  if (event.team_id !== viewer.agent.team_id) return false;
  const audience = audienceOf(event);
  return audience.visibility === 'team' || isLeadAgent(viewer.agent) || event.agent_id === viewer.id || audience.concerns.includes(viewer.id);
}
