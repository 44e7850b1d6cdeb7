import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/core/catalog.js';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';
import type { TestCore } from '../helpers.js';

const HOUR = 3_600_000;

/** Rows of every table and events: what "writes nothing" is checked against. */
async function footprint(t: TestCore) {
  const tables = ['teams', 'persistent_agents', 'team_tasks', 'team_messages', 'team_pending_messages', 'team_notifications', 'team_facts', 'team_fact_versions', 'team_documents', 'team_document_versions', 'team_rules', 'team_roles', 'team_events'] as const;
  const counts: Record<string, number> = {};
  for (const table of tables) counts[table] = Number((await t.store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return counts;
}

/** Every action that creates something, with arguments that create it as jarvis (a lead) or the owner. */
const CREATES: [tool: string, args: Record<string, unknown>, as: 'owner' | 'jarvis'][] = [
  ['team_manage', { action: 'create', name: 'Second team' }, 'owner'],
  ['team_manage', { action: 'rule_create', name: 'label new', trigger: 'task.created', rule_action: { type: 'add_label', label: 'new' } }, 'jarvis'],
  ['team_manage', { action: 'role_create', name: 'tester', actions: ['team_task.update'] }, 'jarvis'],
  ['team_agent', { action: 'create', name: 'Vision' }, 'jarvis'],
  ['team_task', { action: 'create', title: 'Once only' }, 'jarvis'],
  ['team_task', { action: 'claim_next' }, 'jarvis'],
  ['team_comm', { action: 'comment', task_id: '<task>', content: 'said once' }, 'jarvis'],
  ['team_comm', { action: 'send_message', to_agent: 'loki', content: 'said once' }, 'jarvis'],
  ['team_comm', { action: 'notify', type: 'task_progress', message: 'half way' }, 'jarvis'],
  ['team_comm', { action: 'broadcast', content: 'to all, once' }, 'jarvis'],
  ['team_memory', { action: 'fact_save', key: 'release', value: '1.0' }, 'jarvis'],
  ['team_memory', { action: 'doc_create', title: 'Spec', content: '# once' }, 'jarvis'],
  ['team_memory', { action: 'doc_update', doc_id: '<doc>', content: '# twice?' }, 'jarvis'],
];

async function fixture() {
  const t = await openCore();
  await seedTeam(t);
  const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'claimable' });
  const doc = await t.call(OWNER, 'team_memory', { action: 'doc_create', title: 'Doc', content: 'v1' });
  const fill = (args: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v === '<task>' ? task.id : v === '<doc>' ? doc.id : v]));
  return { t, fill };
}

describe('idempotency keys', () => {
  it('covers every action that creates something', () => {
    const withKey = ACTIONS.filter((a) => 'idempotency_key' in a.input.shape).map((a) => `${a.tool}.${a.action}`);
    expect(withKey.sort()).toEqual(CREATES.map(([tool, args]) => `${tool}.${args.action}`).sort());
  });

  it.each(CREATES)('%s %j: a retry with the same key returns the first answer and writes nothing', async (tool, args, as) => {
    const { t, fill } = await fixture();
    const actor = as === 'owner' ? OWNER : agent('jarvis');
    const call = { ...fill(args), idempotency_key: 'retry-1' };
    const first = await t.call(actor, tool, call);
    const after = await footprint(t);
    t.clock.advance(5_000);
    expect(await t.call(actor, tool, call)).toEqual(first);
    expect(await footprint(t)).toEqual(after);
    // the same key with other arguments is refused, naming the field, and writes nothing either
    const changed = args.action === 'claim_next' ? 'task_type' : Object.keys(args).find((k) => ['title', 'content', 'message', 'value'].includes(k)) ?? 'name';
    const other = { ...call, [changed]: 'other' };
    await expect(t.call(actor, tool, other)).rejects.toMatchObject({ code: 'VALIDATION', details: { field: 'idempotency_key' }, message: expect.stringMatching(/idempotency_key: 'retry-1' was already used .* for another request/) });
    expect(await footprint(t)).toEqual(after);
  });

  it('keys are per actor, a failed call keeps no key, and a key is forgotten after a day', async () => {
    const { t } = await fixture();
    const a = await t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'x', idempotency_key: 'k' });
    const b = await t.call(agent('loki'), 'team_task', { action: 'create', title: 'x', idempotency_key: 'k' });
    expect(b.id).not.toBe(a.id);
    await expect(t.call(agent('loki'), 'team_task', { action: 'create', title: 'y', assignees: ['ghost'], idempotency_key: 'failed' })).rejects.toMatchObject({ code: 'VALIDATION' });
    expect((await t.call(agent('loki'), 'team_task', { action: 'create', title: 'y', idempotency_key: 'failed' })).title).toBe('y');
    t.clock.advance(25 * HOUR);
    await t.core.sweep();
    const again = await t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'x', idempotency_key: 'k' });
    expect(again.id).not.toBe(a.id);
  });

  it('two concurrent calls with one key create once', async () => {
    const { t } = await fixture();
    const answers = await Promise.all(Array.from({ length: 5 }, () => t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'raced', idempotency_key: 'same' })));
    expect(new Set(answers.map((a) => a.id)).size).toBe(1);
    expect((await t.call(OWNER, 'team_task', { action: 'list', limit: 500 })).tasks.filter((x: any) => x.title === 'raced')).toHaveLength(1);
  });

  it('is refused on actions that create nothing', async () => {
    const { t } = await fixture();
    await expect(t.call(OWNER, 'team_task', { action: 'list', idempotency_key: 'k' })).rejects.toThrow(/'idempotency_key' is not a parameter of this action/);
  });
});
