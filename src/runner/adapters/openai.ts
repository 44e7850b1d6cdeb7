import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { Core } from '../../core/core.js';
import { TeamTableError } from '../../core/errors.js';
import type { OpenAiAdapter } from '../../core/wakeAdapter.js';
import { describeReasons } from '../../core/wakeReasons.js';
import { toolDefinitions } from '../../mcp/tools.js';
import type { AdapterResult, WakeJob } from '../job.js';
import { tail } from '../job.js';

/**
 * `openai`: the runner itself drives one turn of the agent against an OpenAI-compatible chat-completions endpoint
 * (OpenAI, Ollama, vLLM, LM Studio, other providers' compatible endpoints), with the five team tools as function
 * tools. Each tool call runs through `Core.call` as the agent — its own identity and role, never the owner's — and
 * its answer, or its error, goes back to the model. The turn ends at the model's answer, the step limit, the token
 * budget or the timeout.
 *
 * The agent keeps its own conversation (its session): the last `history_turns` runs in full, older runs one line
 * each, so a run knows what the previous ones did without its context growing without bound.
 */

/** One past run of the agent, as its conversation keeps it. */
interface Turn {
  at: string;
  reasons: string;
  answer: string;
  /** `team_task(claim_next) ok` … */
  tools: string[];
}

/** Older runs summarised beyond the ones kept in full. */
const SUMMARISED_TURNS = 20;
/** A tool's answer as the model sees it at most (a list of tasks can be long). */
const TOOL_ANSWER_MAX = 12_000;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The team tools as function tools: the MCP tool definitions, themselves derived from the actions' schemas. */
function functionTools(): ChatCompletionTool[] {
  return toolDefinitions().map((tool) => ({ type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.inputSchema } }));
}

function conversation(turns: Turn[], keep: number): ChatCompletionMessageParam[] {
  const recent = keep > 0 ? turns.slice(-keep) : [];
  const older = turns.slice(0, turns.length - recent.length).slice(-SUMMARISED_TURNS);
  const messages: ChatCompletionMessageParam[] = [];
  if (older.length) {
    const lines = older.map((t) => `- ${t.at.slice(0, 16).replace('T', ' ')} (${t.reasons}): ${clip(t.answer.replace(/\s+/g, ' '), 100)}${t.tools.length ? ` [${t.tools.length} tool calls]` : ''}`);
    messages.push({ role: 'system', content: `Your earlier heartbeats, oldest first (summary):\n${lines.join('\n')}` });
  }
  for (const turn of recent) {
    messages.push({ role: 'user', content: `(heartbeat of ${turn.at.slice(0, 16).replace('T', ' ')} UTC, woken by ${turn.reasons})` });
    messages.push({ role: 'assistant', content: `${clip(turn.answer, 1_000)}${turn.tools.length ? `\n(tools used: ${turn.tools.join(', ')})` : ''}` });
  }
  return messages;
}

/** Runs one tool call as the agent; a malformed call or a refused one answers with the error, for the model to correct. */
async function callTool(core: Core, agentId: string, name: string, argsText: string): Promise<{ text: string; summary: string }> {
  let args: unknown;
  try {
    args = argsText.trim() === '' ? {} : JSON.parse(argsText);
  } catch (error) {
    return { text: `error: VALIDATION: the arguments are not valid JSON (${(error as Error).message}); send a JSON object`, summary: `${name} malformed` };
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    return { text: 'error: VALIDATION: the arguments must be a JSON object', summary: `${name} malformed` };
  }
  const action = typeof (args as { action?: unknown }).action === 'string' ? (args as { action: string }).action : '?';
  try {
    const result = await core.call({ kind: 'agent', id: agentId }, name, args as Record<string, unknown>);
    return { text: clip(JSON.stringify(result), TOOL_ANSWER_MAX), summary: `${name}(${action}) ok` };
  } catch (error) {
    const text = error instanceof TeamTableError ? `error: ${error.code}: ${error.message}` : `error: INTERNAL: ${(error as Error)?.message ?? error}`;
    return { text, summary: `${name}(${action}) ${error instanceof TeamTableError ? error.code : 'error'}` };
  }
}

export async function runOpenAi(job: WakeJob, config: OpenAiAdapter): Promise<AdapterResult> {
  const { agent, team, run } = job.started;
  const model = config.model || job.model;
  if (!model) return { status: 'failed', error: "no model: set wake_adapter.model, the agent's model or the team's default_model" };
  const apiKey = config.api_key_env ? job.env[config.api_key_env] : undefined;
  if (config.api_key_env && !apiKey) return { status: 'failed', error: `the environment variable ${config.api_key_env} (api_key_env) is not set in the runner's process` };

  const { default: OpenAI } = await import('openai');
  const client = new OpenAI({ baseURL: config.base_url, apiKey: apiKey ?? 'none', maxRetries: 1, timeout: config.timeout_seconds * 1_000 });
  const timeout = AbortSignal.timeout(config.timeout_seconds * 1_000);
  const signal = AbortSignal.any([timeout, job.signal]);
  const turns = await job.core.runs.history<Turn>(agent.id);
  const system = `You are ${agent.name} (agent id ${agent.id})${agent.role ? `, ${agent.role}` : ''}, a member of the team ${team.name}. You act only through the team tools, as yourself. Session ${run.session_id}.`;
  const messages: ChatCompletionMessageParam[] = [{ role: 'system', content: system }, ...conversation(turns, config.history_turns), { role: 'user', content: job.prompt }];
  const tools = functionTools();
  const used: string[] = [];
  let tokens = 0;

  const remember = async (answer: string) => {
    const all = [...turns, { at: run.started_at, reasons: describeReasons(run.reasons), answer, tools: used }];
    await job.core.runs.saveHistory(agent.id, all.slice(-(config.history_turns + SUMMARISED_TURNS)));
  };

  try {
    for (let step = 1; step <= config.max_steps; step++) {
      const completion = await client.chat.completions.create({ model, messages, tools, tool_choice: 'auto' }, { signal });
      tokens += completion.usage?.total_tokens ?? 0;
      const message = completion.choices[0]?.message;
      if (!message) return { status: 'failed', error: 'the endpoint answered without a choice' };
      const calls = message.tool_calls ?? [];
      if (calls.length === 0) {
        const answer = message.content ?? '';
        await remember(answer);
        return { status: 'succeeded', output: tail(answer), stderr: `${step} model calls, ${tokens} tokens, tools: ${used.join(', ') || 'none'}` };
      }
      messages.push({ role: 'assistant', content: message.content ?? null, tool_calls: calls });
      for (const call of calls) {
        const result = call.type === 'function' ? await callTool(job.core, agent.id, call.function.name, call.function.arguments) : { text: `error: VALIDATION: only function tools exist here`, summary: 'custom tool refused' };
        used.push(result.summary);
        messages.push({ role: 'tool', tool_call_id: call.id, content: result.text });
      }
      if (tokens >= config.max_tokens) {
        await remember(`(stopped: token budget of ${config.max_tokens} reached)`);
        return { status: 'failed', output: tail(message.content ?? ''), stderr: `tools: ${used.join(', ')}`, error: `token budget of ${config.max_tokens} reached after ${step} model calls (${tokens} tokens)` };
      }
    }
    await remember(`(stopped: step limit of ${config.max_steps} reached)`);
    return { status: 'failed', stderr: `tools: ${used.join(', ')}`, error: `step limit of ${config.max_steps} model calls reached (${tokens} tokens)` };
  } catch (error) {
    if (job.signal.aborted) return { status: 'interrupted', error: 'the scheduler stopped' };
    if (timeout.aborted) return { status: 'timed_out', stderr: `tools: ${used.join(', ')}`, error: `no answer within ${config.timeout_seconds} s` };
    return { status: 'failed', stderr: `tools: ${used.join(', ')}`, error: `the endpoint failed: ${(error as Error)?.message ?? error}` };
  }
}
