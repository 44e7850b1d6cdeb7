import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OWNER, agent, openCore } from '../helpers.js';
import type { TestCore } from '../helpers.js';
import { startScheduler, waitFor } from './helpers.js';

type Body = { model: string; messages: any[]; tools: any[] };
type Step = (body: Body) => Record<string, unknown>;

const servers: { close(): void }[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

/** A local endpoint speaking chat-completions, answering each request with the next step of its script. */
async function scriptedEndpoint(script: Step[]) {
  const requests: { body: Body; authorization?: string }[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const body = JSON.parse(raw) as Body;
      requests.push({ body, authorization: req.headers.authorization });
      const step = script.shift();
      if (req.url !== '/v1/chat/completions' || !step) {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `unscripted request to ${req.url}` } }));
        return;
      }
      const message = step(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `chatcmpl-${requests.length}`,
          object: 'chat.completion',
          created: 0,
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: message.tool_calls ? 'tool_calls' : 'stop' }],
          usage: { prompt_tokens: 500, completion_tokens: 100, total_tokens: 600 },
        }),
      );
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requests };
}

const toolCall = (id: string, name: string, args: string) => ({ tool_calls: [{ id, type: 'function', function: { name, arguments: args } }] });
const toolAnswers = (body: Body) => body.messages.filter((m) => m.role === 'tool').map((m) => m.content as string);

async function team(t: TestCore, base_url: string, extra: Record<string, unknown> = {}) {
  await t.call(OWNER, 'team_manage', { action: 'create', name: 'Engineering', default_model: 'local-model' });
  await t.call(OWNER, 'team_agent', { action: 'create', name: 'Jarvis', level: 'lead' });
  await t.call(OWNER, 'team_agent', { action: 'create', name: 'Loki', role: 'Technical Writer', wake_adapter: { type: 'openai', base_url, api_key_env: 'TEST_LLM_KEY', ...extra } });
}
const runsOf = (t: TestCore) => async () => (await t.call(OWNER, 'team_agent', { action: 'runs', agent_id: 'loki' })).runs as any[];
const settled = (runs: any[]) => runs.every((r) => !['queued', 'running'].includes(r.status));

describe('the openai adapter', () => {
  it('drives a turn against a chat-completions endpoint: the agent claims a task and completes it through tool calls, as itself', async () => {
    let taskId = '';
    const endpoint = await scriptedEndpoint([
      () => toolCall('c1', 'team_task', JSON.stringify({ action: 'claim_next' })),
      (body) => {
        taskId = JSON.parse(toolAnswers(body).at(-1)!).task.id;
        return { content: 'Claimed it; finishing.', ...toolCall('c2', 'team_task', '{"action": "update", "task_id": ') }; // cut off: not JSON
      },
      () => toolCall('c3', 'team_task', JSON.stringify({ action: 'fly' })),
      () => toolCall('c4', 'team_task', JSON.stringify({ action: 'update', task_id: taskId, status: 'done' })),
      () => ({ content: `Completed ${taskId}.` }),
      // The next run: nothing to do.
      () => ({ content: 'HEARTBEAT_OK' }),
    ]);
    const t = await openCore();
    await team(t, endpoint.url);
    const task = await t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'Document the API', task_type: 'implement' });
    await startScheduler(t.core, t.path, { env: { ...process.env, TEST_LLM_KEY: 'sk-test-123' } });
    await t.call(OWNER, 'team_agent', { action: 'wake', agent_id: 'loki' });

    const [run] = await waitFor(runsOf(t), (r) => r.length === 1 && settled(r), 'the openai run');
    expect(run).toMatchObject({ status: 'succeeded', adapter: 'openai', output: `Completed ${task.id}.` });
    expect(await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).toMatchObject({ status: 'done', assignees: ['loki'] });
    const { events } = await t.call(OWNER, 'team_memory', { action: 'audit', type: 'task_claimed' });
    expect(events[0].agent_id).toBe('loki'); // its own identity, not the owner's

    const [first, second, third, fourth] = endpoint.requests;
    expect(first!.authorization).toBe('Bearer sk-test-123');
    expect(first!.body.model).toBe('local-model'); // the team's default_model
    expect(first!.body.tools.map((tool) => tool.function.name)).toEqual(['team_manage', 'team_agent', 'team_task', 'team_memory', 'team_comm']);
    expect(first!.body.messages.at(-1)).toMatchObject({ role: 'user', content: expect.stringContaining('# Heartbeat — Loki (loki), Technical Writer') });
    expect(first!.body.messages[0].content).toContain('You are Loki (agent id loki)');
    expect(toolAnswers(second!.body)).toHaveLength(1);
    // A malformed call, and a call the core refuses, get the tool's error back; the run goes on.
    expect(toolAnswers(third!.body).at(-1)).toMatch(/^error: VALIDATION: the arguments are not valid JSON/);
    expect(toolAnswers(fourth!.body).at(-1)).toMatch(/^error: VALIDATION: team_task: action must be one of/);

    // The next run knows the previous one: its own conversation, kept per agent.
    t.clock.advance(15 * 60_000);
    await t.call(OWNER, 'team_agent', { action: 'wake', agent_id: 'loki' });
    const runs = await waitFor(runsOf(t), (r) => r.length === 2 && settled(r), 'the second run');
    expect(runs[0]).toMatchObject({ status: 'idle', output: 'HEARTBEAT_OK' });
    const history = endpoint.requests[5]!.body.messages;
    expect(history[1]).toMatchObject({ role: 'user', content: expect.stringContaining('woken by manual') });
    expect(history[2]).toMatchObject({ role: 'assistant', content: expect.stringContaining(`Completed ${task.id}.`) });
    expect(history[2].content).toContain('team_task(claim_next) ok');
  });

  it('stops at its token budget, and a missing API key fails the run with the variable named', async () => {
    const endpoint = await scriptedEndpoint(Array.from({ length: 5 }, (_, i) => () => toolCall(`c${i}`, 'team_task', JSON.stringify({ action: 'list' }))));
    const t = await openCore();
    await team(t, endpoint.url, { max_tokens: 1_000 });
    const scheduler = await startScheduler(t.core, t.path, { env: { ...process.env, TEST_LLM_KEY: 'k' } });
    await t.call(OWNER, 'team_agent', { action: 'wake', agent_id: 'loki' });
    const [run] = await waitFor(runsOf(t), (r) => r.length === 1 && settled(r), 'the run over budget');
    expect(run).toMatchObject({ status: 'failed', error: 'token budget of 1000 reached after 2 model calls (1200 tokens)' });
    expect(endpoint.requests).toHaveLength(2);

    await scheduler.stop();
    await startScheduler(t.core, t.path, { env: {} });
    t.clock.advance(60_000);
    await t.call(OWNER, 'team_agent', { action: 'wake', agent_id: 'loki' });
    const runs = await waitFor(runsOf(t), (r) => r.length === 2 && settled(r), 'the run without a key');
    expect(runs[0]).toMatchObject({ status: 'failed', error: "the environment variable TEST_LLM_KEY (api_key_env) is not set in the runner's process" });
  });
});
