#!/usr/bin/env node
// Heartbeat prompt size: what a wake costs in the agent's context on a busy team, and what building it costs.
//
// A fresh database, one team of 10 agents. The busy agent has 50 pending mail items (mentions in task threads and
// direct messages of ~200 characters, from 4 senders), 10 open tasks of its own among 30, 20 ready in the inbox,
// long instructions (4,000 characters), a WORKING.md, and the team's log holds some 300 events by others since its
// last heartbeat. Measured: the prompt's UTF-8 bytes and estimated tokens (ceil(bytes / 4), the estimator of
// tools-list-size), and the median time to build it (BUILDS builds, in-process, through the core).
// Baseline, same run: the prompt of an agent of the same team with no mail and no tasks (the fixed part and the
// team's activity).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ROOT, describeMachine, fmt, passFail, printTable, quantile, runIfMain, writeResult } from '../lib.mjs';

export const name = 'heartbeat-prompt';
const GOAL_TOKENS = 2_000; // issue 11: ≤ 2k tokens with 50 pending items
const BUILDS = 50;
const OWNER = { kind: 'owner', name: 'bench' };
const agent = (id) => ({ kind: 'agent', id });
const load = (...path) => import(pathToFileURL(join(ROOT, 'dist', ...path)).href);

export async function run() {
  console.log('\n== heartbeat-prompt: the heartbeat prompt of a busy agent (tokens ≈ ceil(UTF-8 bytes / 4))');
  console.log(`   ${describeMachine()}`);
  const dir = mkdtempSync(join(tmpdir(), 'tt-bench-prompt-'));
  const [{ Store }, { Core }] = await Promise.all([load('store', 'store.js'), load('core', 'core.js')]);
  const core = new Core(await Store.open(join(dir, 'team.db')));
  try {
    await core.call(OWNER, 'team_manage', { action: 'create', name: 'Busy' });
    const names = ['Lead', 'Busy', 'Quiet', 'Ana', 'Bo', 'Cy', 'Di', 'Ed', 'Flo', 'Gus'];
    for (const n of names) await core.call(OWNER, 'team_agent', { action: 'create', name: n, ...(n === 'Lead' ? { level: 'lead' } : {}) });
    await core.call(OWNER, 'team_agent', { action: 'update', agent_id: 'busy', role: 'Backend engineer', personality: 'Careful, terse, asks before guessing', skills: ['typescript', 'sql', 'review'], instructions: 'Own the API and the database layer. '.repeat(110) });
    const tasks = [];
    for (let i = 0; i < 30; i++) tasks.push(await core.call(agent('lead'), 'team_task', { action: 'create', title: `Implement part ${i} of the billing service export pipeline`, priority: 1 + (i % 5), ...(i % 3 === 0 ? { assignees: ['busy'] } : {}) }));
    for (let i = 0; i < 20; i++) await core.call(agent('lead'), 'team_task', { action: 'create', title: `Inbox item ${i}: investigate flaky test in the reporting module`, task_type: i % 2 ? 'bug' : 'implement' });
    await core.call(agent('busy'), 'team_agent', { action: 'working_update', status: 'working', current_task_id: tasks[0].id, next_steps: '1. Finish the exporter\n2. Add tests\n3. Ask lead about retries', context: 'CSV exporter half done; retries unclear' });
    await core.call(agent('busy'), 'team_agent', { action: 'heartbeat' }); // its last heartbeat: activity counts from here
    const senders = ['lead', 'ana', 'bo', 'cy'];
    const text = 'could you check the retry policy of the exporter before Friday? the numbers in staging look off by one batch';
    for (let i = 0; i < 50; i++) {
      if (i % 2) await core.call(agent(senders[i % 4]), 'team_comm', { action: 'send_message', to_agent: 'busy', content: `${text} (${i})` });
      else await core.call(agent(senders[i % 4]), 'team_comm', { action: 'comment', task_id: tasks[i % 30].id, content: `@busy ${text} (${i})` });
    }
    for (let i = 0; i < 150; i++) await core.call(agent(['di', 'ed', 'flo', 'gus'][i % 4]), 'team_memory', { action: 'fact_save', key: `metric-${i}`, value: String(i) });
    for (let i = 1; i < 30; i += 3) await core.call(agent('lead'), 'team_task', { action: 'update', task_id: tasks[i].id, priority: 2 });

    const measure = async (id) => {
      const times = [];
      let beat;
      for (let i = 0; i < BUILDS; i++) {
        const t0 = performance.now();
        beat = await core.call(agent('lead'), 'team_agent', { action: 'heartbeat', agent_id: id }); // a lead's look records nothing
        times.push(performance.now() - t0);
      }
      const bytes = Buffer.byteLength(beat.prompt, 'utf8');
      return { bytes, tokens: Math.ceil(bytes / 4), build_ms_median: quantile(times, 0.5), pending_mail: beat.pending_mail, open_tasks: beat.open_tasks, activity: beat.activity, prompt: beat.prompt };
    };
    const busy = await measure('busy');
    const quiet = await measure('quiet');
    printTable('heartbeat prompt', ['agent', 'pending mail', 'open tasks', 'activity', 'bytes', 'est. tokens', 'build ms (median)', '× quiet'], [
      ['quiet (no mail, no tasks; baseline)', quiet.pending_mail, quiet.open_tasks, quiet.activity, quiet.bytes, quiet.tokens, quiet.build_ms_median, '1.00×'],
      ['busy', busy.pending_mail, busy.open_tasks, busy.activity, busy.bytes, busy.tokens, busy.build_ms_median, `${fmt(busy.tokens / quiet.tokens, 2)}×`],
    ]);
    console.log(`\n  goal: busy ≤ ${GOAL_TOKENS} est. tokens — ${passFail(busy.tokens <= GOAL_TOKENS)} (${busy.tokens})`);
    if (process.env.BENCH_SHOW_PROMPT) console.log(`\n${busy.prompt}`);
    writeResult(name, { goal_tokens: GOAL_TOKENS, busy, quiet });
  } finally {
    await core.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, run);
