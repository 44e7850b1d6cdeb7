import type { EventRow } from '../store/schema.js';
import { audienceOf } from './audience.js';

/**
 * Why an agent is woken. Active push (the seed's "Active Notification Push") reads them off the event log: an
 * @mention, a direct message or broadcast, activity in a subscribed thread, an assignment, a review request, a
 * notification meant for the agent. The scheduler adds `cron` (its heartbeat) and `wake` adds `manual`.
 */
export const WAKE_REASON_KINDS = ['cron', 'manual', 'mention', 'message', 'review', 'assignment', 'thread', 'notification'] as const;
export type WakeReasonKind = (typeof WAKE_REASON_KINDS)[number];

export interface WakeReason {
  kind: WakeReasonKind;
  /** One reason per key: a message that mentions an agent in a thread it follows is one reason, `mention`. */
  key: string;
  at: string;
  /** Who caused it. */
  by?: string;
  /** The task or thread it is about. */
  ref?: string;
  /** The event it came from. */
  seq?: number;
}

/** When two reasons share a key, the more specific one stays. */
const PRECEDENCE: readonly WakeReasonKind[] = ['manual', 'mention', 'message', 'review', 'assignment', 'thread', 'notification', 'cron'];

/** A run carries at most this many reasons (the newest); a burst beyond it is still one wake. */
export const MAX_REASONS = 100;

const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '') : []);

/**
 * The agents `event` wakes, each with its reason. Nobody is woken by what they did themselves, so an agent's own
 * run cannot wake it again.
 */
export function wakeReasonsOf(event: Pick<EventRow, 'seq' | 'type' | 'agent_id' | 'related_id' | 'data' | 'created_at'>): Map<string, WakeReason> {
  const data = JSON.parse(event.data || '{}') as Record<string, unknown>;
  const base = { at: event.created_at, by: event.agent_id, seq: event.seq };
  const out = new Map<string, WakeReason>();
  const add = (agentId: string, reason: Omit<WakeReason, 'at' | 'by' | 'seq'>) => {
    if (agentId && agentId !== event.agent_id) out.set(agentId, { ...reason, ...base });
  };
  switch (event.type) {
    case 'mention':
      add(str(data.agent_id), { kind: 'mention', key: `message:${event.related_id}`, ref: str(data.thread_id) || undefined });
      break;
    case 'message_sent': {
      const toAgent = str(data.to_agent);
      const ref = str(data.task_id) || str(data.thread_id) || undefined;
      for (const agentId of audienceOf(event).concerns) {
        const kind = agentId === toAgent || !str(data.thread_id) ? 'message' : 'thread';
        add(agentId, { kind, key: `message:${event.related_id}`, ref });
      }
      break;
    }
    case 'notification_sent': {
      const type = str(data.type);
      const kind = type === 'review_requested' ? 'review' : type === 'task_assigned' ? 'assignment' : 'notification';
      add(str(data.to_agent), { kind, key: `notification:${event.related_id}`, ref: str(data.task_id) || undefined });
      break;
    }
    case 'task_assigned': {
      const previous = new Set(strings(data.previous));
      for (const agentId of strings(data.assignees)) if (!previous.has(agentId)) add(agentId, { kind: 'assignment', key: `assigned:${event.related_id}`, ref: event.related_id });
      break;
    }
    case 'task_reassigned':
      add(str(data.to_agent), { kind: 'assignment', key: `assigned:${event.related_id}`, ref: event.related_id });
      break;
  }
  for (const reason of out.values()) if (reason.ref === undefined) delete reason.ref;
  return out;
}

/** `existing` with `incoming` added: one reason per key (the more specific kind), the newest MAX_REASONS. */
export function mergeReasons(existing: readonly WakeReason[], incoming: readonly WakeReason[]): WakeReason[] {
  const byKey = new Map(existing.map((r) => [r.key, r]));
  for (const reason of incoming) {
    const had = byKey.get(reason.key);
    if (!had || PRECEDENCE.indexOf(reason.kind) < PRECEDENCE.indexOf(had.kind)) byKey.set(reason.key, had ? { ...reason, at: had.at } : reason);
  }
  return [...byKey.values()].slice(-MAX_REASONS);
}

/** `mention ×2, cron` — the reasons in a few words. */
export function describeReasons(reasons: readonly WakeReason[]): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => (n > 1 ? `${kind} ×${n}` : kind)).join(', ');
}
