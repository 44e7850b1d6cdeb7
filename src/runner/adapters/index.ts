import type { WakeAdapter } from '../../core/wakeAdapter.js';
import type { AdapterResult, WakeJob } from '../job.js';

/**
 * Runs `job` through its adapter. Each adapter loads on first use: a `serve` whose team only uses `command` never
 * loads the OpenAI client.
 */
export async function runAdapter(job: WakeJob, adapter: WakeAdapter): Promise<AdapterResult> {
  switch (adapter.type) {
    case 'command':
      return (await import('./command.js')).runCommand(job, adapter);
    case 'openai':
      return (await import('./openai.js')).runOpenAi(job, adapter);
    case 'webhook':
      return (await import('./webhook.js')).runWebhook(job, adapter);
    case 'sse':
      return (await import('./sse.js')).runSse(job);
  }
}
