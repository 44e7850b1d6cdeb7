import { createParser } from 'eventsource-parser';

/** A refusal or failure as the server reported it: `{"error": {"code", "message"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Me {
  kind: 'agent' | 'owner';
  id: string;
}

/** One row of the event log, as `/events` sends it. */
export interface TeamEvent {
  seq: number;
  id: string;
  team_id: string;
  type: string;
  agent_id: string;
  message: string;
  related_id: string;
  data: Record<string, unknown>;
  created_at: string;
}

type Query = Record<string, string | number | boolean | undefined>;

/**
 * The REST API under `/api/v1` with the signed-in token — the same routes, rules and answers as every other client.
 * `teamId` is added to every call when the owner has picked a team (an agent's calls default to its own).
 */
export class Api {
  teamId: string | undefined;

  constructor(readonly token: string) {}

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.request<T>('GET', path, query);
  }

  post<T>(path: string, body: Record<string, unknown> = {}, method = 'POST'): Promise<T> {
    return this.request<T>(method, path, {}, body);
  }

  private async request<T>(method: string, path: string, query: Query, body?: Record<string, unknown>): Promise<T> {
    const params = new URLSearchParams();
    const withTeam = this.teamId ? { team_id: this.teamId, ...query } : query;
    for (const [name, value] of Object.entries(withTeam)) if (value !== undefined && value !== '') params.set(name, String(value));
    const url = `/api/v1${path}${method === 'GET' && params.size ? `?${params}` : ''}`;
    const response = await fetch(url, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(this.teamId ? { team_id: this.teamId, ...body } : body) } : {}),
    });
    const answer = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (!response.ok) throw new ApiError(response.status, answer.error?.code ?? `HTTP_${response.status}`, answer.error?.message ?? response.statusText);
    return answer as T;
  }

  /**
   * Follows `/events` (the team's stream for the owner, the agent's own otherwise) until `signal` aborts:
   * `EventSource` cannot send the token, so this reads the stream with fetch, and on a dropped connection resumes
   * after the last event seen (`Last-Event-ID`) — nothing missed, nothing twice.
   */
  async follow(onEvent: (event: TeamEvent) => void, onState: (connected: boolean, head?: number) => void, signal: AbortSignal): Promise<void> {
    let lastId: string | undefined;
    while (!signal.aborted) {
      try {
        const response = await fetch(`/events${this.teamId ? `?team_id=${encodeURIComponent(this.teamId)}` : ''}`, {
          headers: { Authorization: `Bearer ${this.token}`, Accept: 'text/event-stream', ...(lastId ? { 'Last-Event-ID': lastId } : {}) },
          signal,
        });
        if (!response.ok || !response.body) throw new Error(`events: HTTP ${response.status}`);
        const parser = createParser({
          onEvent(message) {
            // `connected` says where the log stood when the stream started.
            if (message.event === 'connected') return onState(true, (JSON.parse(message.data) as { after: number }).after);
            if (message.event && message.event !== 'message') return;
            if (message.id) lastId = message.id;
            onEvent(JSON.parse(message.data) as TeamEvent);
          },
        });
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) parser.feed(chunk.value);
      } catch {
        if (signal.aborted) return;
      }
      onState(false);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}
