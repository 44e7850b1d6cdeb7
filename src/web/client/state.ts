import type { Api, Me, TeamEvent } from './api.js';
import { ApiError } from './api.js';
import { h, replace } from './dom.js';

/** Events kept for the activity view (and rows shown in it); older ones are in the audit log. */
export const KEEP_EVENTS = 1000;

/** The seed's task statuses, in board order. */
export const STATUSES = ['inbox', 'assigned', 'in_progress', 'review', 'done', 'blocked', 'cancelled'] as const;

export interface Task {
  id: string;
  title: string;
  description: string;
  status: string;
  priority: number;
  assignees: string[];
  labels: string[];
  reviewer: string;
  claimed_by: string;
  lease_expires_at: string;
  parent_id: string;
  blocked_by: string[];
  waiting_on: string[];
  blocked_reason: string;
  version: number;
  updated_at: string;
}

export interface Agent {
  id: string;
  name: string;
  role: string;
  level: string;
  status: string;
  liveness: string;
  current_task_id: string;
  last_heartbeat_at: string;
  next_heartbeat_at: string | null;
  last_active_at: string;
}

/** What every view shares: the signed-in client, who it is, and the live event feed. */
export interface Session {
  api: Api;
  me: Me;
  /** Recent events, oldest first, as they arrived on `/events`. */
  events: TeamEvent[];
  /** Called with each event after it is recorded; the view on screen may redraw. */
  listeners: Set<(event: TeamEvent) => void>;
  /** The log's latest sequence number seen (from the stream): where the audit view starts reading back from. */
  head: number;
  /** Settles when the event stream first connects (and `head` is known). */
  connected: Promise<void>;
  /** Like `listeners`, for the view on screen only: emptied when another view opens. */
  viewListeners: Set<(event: TeamEvent) => void>;
}

const notice = () => document.getElementById('notice')!;

/** Shows what the server said about a refused or failed action, in the page's alert region. */
export function showError(error: unknown): void {
  const text = error instanceof ApiError ? `${error.code}: ${error.message}` : String(error instanceof Error ? error.message : error);
  replace(notice(), h('p', { class: 'error' }, text), h('button', { type: 'button', onclick: () => replace(notice()) }, 'Dismiss'));
}

export function showInfo(text: string): void {
  replace(notice(), h('p', { class: 'info' }, text));
}

/** Runs an action from a button; its refusal is shown, its success clears the alert. */
export async function act(run: () => Promise<unknown>, done?: string): Promise<boolean> {
  try {
    await run();
    if (done) showInfo(done);
    else replace(notice());
    return true;
  } catch (error) {
    showError(error);
    return false;
  }
}

/** Pages through a list action until its end (`next_cursor` null). */
export async function all<T>(api: Api, path: string, key: string, query: Record<string, string | number> = {}): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.get<Record<string, unknown> & { next_cursor: string | null }>(path, { ...query, limit: 500, cursor });
    items.push(...((page[key] as T[]) ?? []));
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return items;
}

/**
 * `run` at most once at a time: a call while it runs makes it run once more afterwards, however many calls came. A
 * burst of events then costs two reads, not one per event (which would also spend the token's rate limit).
 */
export function coalesce(run: () => Promise<void>): () => void {
  let running = false;
  let again = false;
  const start = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    void run()
      .catch(showError)
      .finally(() => {
        running = false;
        if (again) {
          again = false;
          start();
        }
      });
  };
  return start;
}
