import type { WebhookAdapter } from '../../core/wakeAdapter.js';
import { signatureHeaders } from '../../outbox/signing.js';
import { VERSION } from '../../version.js';
import type { AdapterResult, WakeJob } from '../job.js';
import { tail } from '../job.js';

/**
 * `webhook`: POSTs the prompt and the wake reasons as JSON to the agent's URL, signed with its secret, for agents
 * that run elsewhere. A 2xx answer is a successful run (its body is the output: exactly HEARTBEAT_OK is idle).
 * `exit_code` holds the HTTP status.
 */
export async function runWebhook(job: WakeJob, config: WebhookAdapter): Promise<AdapterResult> {
  const { agent, team, run } = job.started;
  const body = JSON.stringify({
    type: 'agent_wake',
    agent_id: agent.id,
    team_id: team.id,
    run_id: run.id,
    session_id: run.session_id,
    reasons: run.reasons,
    model: job.model,
    workspace: job.workspace,
    prompt: job.prompt,
  });
  const timeout = AbortSignal.timeout(config.timeout_seconds * 1_000);
  try {
    const response = await fetch(config.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': `team-table/${VERSION}`,
        // Signed as notification webhooks are (docs/notifications.md): one scheme for a receiver to check.
        ...signatureHeaders(config.secret!, body, job.core.clock()),
        'x-team-table-run': run.id,
      },
      body,
      signal: AbortSignal.any([timeout, job.signal]),
      redirect: 'error',
    });
    const text = await bodyTail(response);
    return response.ok
      ? { status: 'succeeded', exit_code: response.status, output: text }
      : { status: 'failed', exit_code: response.status, output: text, error: `the webhook answered HTTP ${response.status}` };
  } catch (error) {
    if (job.signal.aborted) return { status: 'interrupted', error: 'the scheduler stopped' };
    if (timeout.aborted) return { status: 'timed_out', error: `no answer within ${config.timeout_seconds} s` };
    return { status: 'failed', error: `the webhook could not be reached: ${(error as Error).cause ?? (error as Error).message}` };
  }
}

/** The end of the answer's body, read as it streams: an endless or huge answer costs no more than the tail kept. */
async function bodyTail(response: Response): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of response.body ?? []) text = tail(text + decoder.decode(chunk, { stream: true }));
  return tail(text + decoder.decode());
}
