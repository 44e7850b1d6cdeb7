import type { Core } from '../core/core.js';
import type { RunOutcome, StartedRun } from '../core/runs.js';

/** How an agent's own MCP client reaches team-table: the database file (stdio `serve`) or the HTTP server. */
export interface Connection {
  /** Absolute path of the SQLite file: `TEAM_TABLE_DB`. */
  db?: string;
  /** The HTTP server's MCP endpoint: `TEAM_TABLE_URL` (with a token of the agent in `TEAM_TABLE_TOKEN`). */
  url?: string;
  /**
   * A bearer token of `agentId` for one run, when the HTTP server is configured; `release` (when given) is called
   * once the run has ended — a server minting a token per run revokes it there.
   */
  tokenFor?: (agentId: string) => Promise<{ token: string; release?: () => Promise<void> }>;
}

/** One wake to carry out: the started run, its prompt, and what every adapter is given. */
export interface WakeJob {
  started: StartedRun;
  /** The heartbeat prompt ('' for the sse adapter: its agent fetches the prompt itself). */
  prompt: string;
  /** The agent's model, or its team's default_model ('' when neither is set). */
  model: string;
  /** The agent's own folder under the team's workspace_path, holding its WORKING.md ('' without a workspace). */
  workspace: string;
  connection: Connection;
  /** Aborted when the scheduler stops or loses the lead: the adapter ends the run at once. */
  signal: AbortSignal;
  core: Core;
  /** The environment of the runner's process, which adapters read (API keys) and pass on (PATH). */
  env: NodeJS.ProcessEnv;
}

/** What an adapter reports; the scheduler turns exactly `HEARTBEAT_OK` into an idle run. */
export type AdapterResult = RunOutcome;

export type Adapter = (job: WakeJob) => Promise<AdapterResult>;

/** How much of an agent's output a run keeps: its end, where an agent's answer is. */
export const OUTPUT_TAIL = 4_000;

export const tail = (text: string, max = OUTPUT_TAIL): string => (text.length > max ? `…${text.slice(-(max - 1))}` : text);

/** A run whose whole answer is `HEARTBEAT_OK` had nothing to do. */
export function classify(result: AdapterResult): RunOutcome {
  if (result.status === 'succeeded' && result.output?.trim() === 'HEARTBEAT_OK') return { ...result, status: 'idle' };
  return result;
}
