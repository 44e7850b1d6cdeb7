import type { AdapterResult, WakeJob } from '../job.js';

/**
 * `sse`: appends an `agent_wake` event for the agent (its reasons, never content); the HTTP server's event stream
 * delivers it to the agent's open stream, and the agent fetches its heartbeat prompt itself. The run succeeds once
 * the event is in the log; the agent answers by taking its heartbeat, or misses it.
 */
export async function runSse(job: WakeJob): Promise<AdapterResult> {
  const seq = await job.core.runs.appendWake(job.started, { model: job.model, workspace: job.workspace });
  return { status: 'succeeded', output: `agent_wake event ${seq} appended for ${job.started.agent.id}'s stream` };
}
