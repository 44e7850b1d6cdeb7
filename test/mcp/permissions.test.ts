import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpSession } from '../helpers.js';
import { spawnSession, tempDbPath } from '../helpers.js';

/**
 * The permission matrix: every restricted action × every role template, over MCP, each role an agent in its own
 * server process. Each cell works on things made for it alone: an allowed call must succeed and show its effect;
 * a refused one fails with PERMISSION_DENIED and changes nothing.
 */
const TEMPLATES = ['lead', 'architect', 'coder', 'reviewer', 'async-worker'] as const;
type Template = (typeof TEMPLATES)[number];
const ALL = [...TEMPLATES];

interface Cell {
  /** What the call works on, made by the owner; the arguments of the call. */
  setup(owner: McpSession, n: number, caller: string): Promise<Record<string, unknown>>;
  /** Passes when the call took effect (`result` is its answer). */
  effect(owner: McpSession, args: Record<string, unknown>, result: any, caller: string): Promise<void>;
  /** Passes when nothing changed (the call was refused). */
  unchanged(owner: McpSession, args: Record<string, unknown>): Promise<void>;
}

const TEAM = 'governed';
const notFound = async (promise: Promise<string>) => expect(await promise).toMatch(/^NOT_FOUND/);
const task = async (owner: McpSession, title: string, extra: Record<string, unknown> = {}) => (await owner.call('team_task', { action: 'create', team_id: TEAM, title, ...extra })).id as string;
const getTask = (owner: McpSession, id: string) => owner.call('team_task', { action: 'get', team_id: TEAM, task_id: id });
const inReview = async (owner: McpSession, title: string) => {
  const id = await task(owner, title);
  await owner.call('team_task', { action: 'update', team_id: TEAM, task_id: id, status: 'in_progress' });
  await owner.call('team_task', { action: 'update', team_id: TEAM, task_id: id, status: 'review' });
  return id;
};
const rules = async (owner: McpSession) => (await owner.call('team_manage', { action: 'rule_list', team_id: TEAM })).rules as any[];
const roles = async (owner: McpSession) => (await owner.call('team_manage', { action: 'role_list', team_id: TEAM })).roles as any[];
const newRule = async (owner: McpSession, n: number) =>
  (await owner.call('team_manage', { action: 'rule_create', team_id: TEAM, name: `rule ${n}`, trigger: 'task.created', rule_action: { type: 'add_label', label: 'x' } })).id as string;

const MATRIX: [string, string, Template[], Cell][] = [
  ['team_manage', 'create', [], {
    setup: async (_o, n) => ({ name: `Another team ${n}` }),
    effect: async (owner, args) => expect((await owner.call('team_manage', { action: 'get', team_id: args.name })).name).toBe(args.name),
    unchanged: (owner, args) => notFound(owner.fail('team_manage', { action: 'get', team_id: args.name })),
  }],
  ['team_manage', 'delete', [], {
    setup: async (owner, n) => ({ team_id: (await owner.call('team_manage', { action: 'create', name: `Doomed ${n}` })).id }),
    effect: (owner, args) => notFound(owner.fail('team_manage', { action: 'get', team_id: args.team_id })),
    unchanged: async (owner, args) => expect((await owner.call('team_manage', { action: 'get', team_id: args.team_id })).id).toBe(args.team_id),
  }],
  ['team_manage', 'update', ['lead'], {
    setup: async (_o, n) => ({ team_id: TEAM, description: `described by cell ${n}` }),
    effect: async (owner, args) => expect((await owner.call('team_manage', { action: 'get', team_id: TEAM })).description).toBe(args.description),
    unchanged: async (owner, args) => expect((await owner.call('team_manage', { action: 'get', team_id: TEAM })).description).not.toBe(args.description),
  }],
  ['team_manage', 'rule_create', ['lead'], {
    setup: async (_o, n) => ({ team_id: TEAM, name: `made in cell ${n}`, trigger: 'task.created', rule_action: { type: 'add_label', label: 'x' } }),
    effect: async (owner, args) => expect((await rules(owner)).map((r) => r.name)).toContain(args.name),
    unchanged: async (owner, args) => expect((await rules(owner)).map((r) => r.name)).not.toContain(args.name),
  }],
  ['team_manage', 'rule_update', ['lead'], {
    setup: async (owner, n) => ({ team_id: TEAM, rule_id: await newRule(owner, n), enabled: false }),
    effect: async (owner, args) => expect((await rules(owner)).find((r) => r.id === args.rule_id).enabled).toBe(false),
    unchanged: async (owner, args) => expect((await rules(owner)).find((r) => r.id === args.rule_id).enabled).toBe(true),
  }],
  ['team_manage', 'rule_delete', ['lead'], {
    setup: async (owner, n) => ({ team_id: TEAM, rule_id: await newRule(owner, n) }),
    effect: async (owner, args) => expect((await rules(owner)).map((r) => r.id)).not.toContain(args.rule_id),
    unchanged: async (owner, args) => expect((await rules(owner)).map((r) => r.id)).toContain(args.rule_id),
  }],
  ['team_manage', 'role_create', ['lead'], {
    setup: async (_o, n) => ({ team_id: TEAM, name: `role-${n}` }),
    effect: async (owner, args) => expect((await roles(owner)).map((r) => r.name)).toContain(args.name),
    unchanged: async (owner, args) => expect((await roles(owner)).map((r) => r.name)).not.toContain(args.name),
  }],
  ['team_manage', 'role_update', ['lead'], {
    setup: async (owner, n) => ({ team_id: TEAM, name: (await owner.call('team_manage', { action: 'role_create', team_id: TEAM, name: `role-${n}` })).name, description: 'changed' }),
    effect: async (owner, args) => expect((await roles(owner)).find((r) => r.name === args.name).description).toBe('changed'),
    unchanged: async (owner, args) => expect((await roles(owner)).find((r) => r.name === args.name).description).toBe(''),
  }],
  ['team_manage', 'role_delete', ['lead'], {
    setup: async (owner, n) => ({ team_id: TEAM, name: (await owner.call('team_manage', { action: 'role_create', team_id: TEAM, name: `role-${n}` })).name }),
    effect: async (owner, args) => expect((await roles(owner)).map((r) => r.name)).not.toContain(args.name),
    unchanged: async (owner, args) => expect((await roles(owner)).map((r) => r.name)).toContain(args.name),
  }],
  ['team_agent', 'create', ['lead'], {
    setup: async (_o, n) => ({ team_id: TEAM, name: `Recruit ${n}` }),
    effect: async (owner, _a, result) => expect((await owner.call('team_agent', { action: 'get', agent_id: result.id })).name).toBe(result.name),
    unchanged: (owner, args) => notFound(owner.fail('team_agent', { action: 'get', agent_id: String(args.name).toLowerCase().replace(' ', '-') })),
  }],
  ['team_agent', 'delete', ['lead'], {
    setup: async (owner, n) => ({ agent_id: (await owner.call('team_agent', { action: 'create', team_id: TEAM, name: `Leaver ${n}` })).id }),
    effect: (owner, args) => notFound(owner.fail('team_agent', { action: 'get', agent_id: args.agent_id })),
    unchanged: async (owner, args) => expect((await owner.call('team_agent', { action: 'get', agent_id: args.agent_id })).id).toBe(args.agent_id),
  }],
  ['team_task', 'create', ['lead', 'architect', 'coder'], {
    setup: async (_o, n) => ({ title: `created in cell ${n}` }),
    effect: async (owner, args, result) => expect((await getTask(owner, result.id)).title).toBe(args.title),
    unchanged: async (owner, args) => expect((await owner.call('team_task', { action: 'list', team_id: TEAM, limit: 500 })).tasks.map((t: any) => t.title)).not.toContain(args.title),
  }],
  ['team_task', 'update', ALL, {
    setup: async (owner, n) => ({ task_id: await task(owner, `to rename ${n}`), title: `renamed ${n}` }),
    effect: async (owner, args) => expect((await getTask(owner, args.task_id as string)).title).toBe(args.title),
    unchanged: async (owner, args) => expect((await getTask(owner, args.task_id as string)).title).not.toBe(args.title),
  }],
  ['team_task', 'assign', ['lead', 'architect'], {
    setup: async (owner, n) => ({ task_id: await task(owner, `to assign ${n}`), assignees: ['helper'] }),
    effect: async (owner, args) => expect(await getTask(owner, args.task_id as string)).toMatchObject({ assignees: ['helper'], status: 'assigned' }),
    unchanged: async (owner, args) => expect(await getTask(owner, args.task_id as string)).toMatchObject({ assignees: [], status: 'inbox' }),
  }],
  ['team_task', 'delete', ['lead', 'architect'], {
    setup: async (owner, n) => ({ task_id: await task(owner, `to delete ${n}`) }),
    effect: (owner, args) => notFound(owner.fail('team_task', { action: 'get', team_id: TEAM, task_id: args.task_id })),
    unchanged: async (owner, args) => expect((await getTask(owner, args.task_id as string)).id).toBe(args.task_id),
  }],
  ['team_task', 'claim', ALL, {
    setup: async (owner, n) => ({ task_id: await task(owner, `to claim ${n}`) }),
    effect: async (owner, args, _r, caller) => expect(await getTask(owner, args.task_id as string)).toMatchObject({ status: 'in_progress', claimed_by: caller }),
    unchanged: async (owner, args) => expect(await getTask(owner, args.task_id as string)).toMatchObject({ status: 'inbox', claimed_by: '' }),
  }],
  ['team_task', 'claim_next', ALL, {
    // priority 1: the best ready task, whatever other cells left in the inbox
    setup: async (owner, n) => ({ expected: await task(owner, `next up ${n}`, { priority: 1 }) }),
    effect: async (owner, args, result, caller) => {
      expect(result.task.id).toBe(args.expected);
      expect(await getTask(owner, args.expected as string)).toMatchObject({ status: 'in_progress', claimed_by: caller });
    },
    unchanged: async (owner, args) => expect((await getTask(owner, args.expected as string)).status).toBe('inbox'),
  }],
  ['team_task', 'approve', ['lead', 'architect', 'reviewer'], {
    setup: async (owner, n) => ({ task_id: await inReview(owner, `to approve ${n}`) }),
    effect: async (owner, args) => expect((await getTask(owner, args.task_id as string)).status).toBe('done'),
    unchanged: async (owner, args) => expect((await getTask(owner, args.task_id as string)).status).toBe('review'),
  }],
  ['team_task', 'request_changes', ['lead', 'architect', 'reviewer'], {
    setup: async (owner, n) => ({ task_id: await inReview(owner, `to send back ${n}`), content: 'once more' }),
    effect: async (owner, args) => expect((await getTask(owner, args.task_id as string)).status).toBe('in_progress'),
    unchanged: async (owner, args) => expect((await getTask(owner, args.task_id as string)).status).toBe('review'),
  }],
  ['team_task', 'reassign', ['lead', 'architect', 'coder', 'async-worker'], {
    setup: async (owner, n, caller) => ({ task_id: await task(owner, `to hand over ${n}`, { assignees: [caller] }), new_assignee: 'helper' }),
    effect: async (owner, args) => expect((await getTask(owner, args.task_id as string)).assignees).toEqual(['helper']),
    unchanged: async (owner, args) => expect((await getTask(owner, args.task_id as string)).assignees).not.toEqual(['helper']),
  }],
  ['team_memory', 'fact_save', ['lead', 'architect', 'coder', 'reviewer'], {
    setup: async (_o, n) => ({ key: `fact-${n}`, value: `saved in cell ${n}` }),
    effect: async (owner, args) => expect((await owner.call('team_memory', { action: 'fact_get', team_id: TEAM, key: args.key })).value).toBe(args.value),
    unchanged: (owner, args) => notFound(owner.fail('team_memory', { action: 'fact_get', team_id: TEAM, key: args.key })),
  }],
  ['team_memory', 'fact_delete', ['lead', 'architect'], {
    setup: async (owner, n) => ({ key: (await owner.call('team_memory', { action: 'fact_save', team_id: TEAM, key: `doomed-${n}`, value: 'v' })).key }),
    effect: (owner, args) => notFound(owner.fail('team_memory', { action: 'fact_get', team_id: TEAM, key: args.key })),
    unchanged: async (owner, args) => expect((await owner.call('team_memory', { action: 'fact_get', team_id: TEAM, key: args.key })).value).toBe('v'),
  }],
  ['team_memory', 'doc_create', ALL, {
    setup: async (_o, n) => ({ title: `doc ${n}`, content: `# written in cell ${n}` }),
    effect: async (owner, args, result) => expect((await owner.call('team_memory', { action: 'doc_get', team_id: TEAM, doc_id: result.id })).content).toBe(args.content),
    unchanged: async (owner, args) => expect((await owner.call('team_memory', { action: 'doc_list', team_id: TEAM })).documents.map((d: any) => d.title)).not.toContain(args.title),
  }],
  ['team_memory', 'doc_update', ALL, {
    setup: async (owner, n) => ({ doc_id: (await owner.call('team_memory', { action: 'doc_create', team_id: TEAM, title: `doc ${n}`, content: 'v1' })).id, content: `v2 of cell ${n}` }),
    effect: async (owner, args) => expect(await owner.call('team_memory', { action: 'doc_get', team_id: TEAM, doc_id: args.doc_id })).toMatchObject({ content: args.content, version: 2 }),
    unchanged: async (owner, args) => expect(await owner.call('team_memory', { action: 'doc_get', team_id: TEAM, doc_id: args.doc_id })).toMatchObject({ content: 'v1', version: 1 }),
  }],
  ['team_memory', 'doc_delete', ['lead', 'architect'], {
    setup: async (owner, n) => ({ doc_id: (await owner.call('team_memory', { action: 'doc_create', team_id: TEAM, title: `doomed ${n}`, content: 'x' })).id }),
    effect: (owner, args) => notFound(owner.fail('team_memory', { action: 'doc_get', team_id: TEAM, doc_id: args.doc_id })),
    unchanged: async (owner, args) => expect((await owner.call('team_memory', { action: 'doc_get', team_id: TEAM, doc_id: args.doc_id })).content).toBe('x'),
  }],
  ['team_comm', 'broadcast', ['lead', 'architect'], {
    setup: async (_o, n) => ({ content: `broadcast of cell ${n}` }),
    effect: async (owner, args) => expect((await owner.call('team_comm', { action: 'inbox', agent_id: 'helper', limit: 500 })).messages.map((m: any) => m.content)).toContain(args.content),
    unchanged: async (owner, args) => expect((await owner.call('team_comm', { action: 'inbox', agent_id: 'helper', limit: 500 })).messages.map((m: any) => m.content)).not.toContain(args.content),
  }],
  ['team_comm', 'purge', ['lead'], {
    setup: async (owner, n) => ({ message: (await owner.call('team_comm', { action: 'send_message', team_id: TEAM, to_agent: 'helper', content: `old news ${n}` })).id, before_date: '2999-01-01' }),
    effect: (owner, args) => notFound(owner.fail('team_comm', { action: 'message_get', team_id: TEAM, message_id: args.message })),
    unchanged: async (owner, args) => expect((await owner.call('team_comm', { action: 'message_get', team_id: TEAM, message_id: args.message })).id).toBe(args.message),
  }],
];

/** The call's arguments: the setup's, less what only the checks use. */
const callArgs = ({ expected: _e, message: _m, ...args }: Record<string, unknown>) => args;

describe('permission matrix over MCP', () => {
  const sessions = {} as Record<Template | 'owner', McpSession>;
  let n = 0;

  beforeAll(async () => {
    const db = tempDbPath();
    sessions.owner = await spawnSession(db, { persistent: true });
    await sessions.owner.call('team_manage', { action: 'create', name: 'Governed' });
    await sessions.owner.call('team_agent', { action: 'create', team_id: TEAM, name: 'Helper' });
    for (const role of TEMPLATES) {
      // level mid everywhere: the role definition alone decides
      await sessions.owner.call('team_agent', { action: 'create', team_id: TEAM, name: `as ${role}`, level: 'mid', role_definition: role });
      sessions[role] = await spawnSession(db, { agent: `as-${role}`, persistent: true });
    }
  });
  afterAll(async () => {
    for (const session of Object.values(sessions)) await session.close();
  });

  describe.each(TEMPLATES)('role %s', (role) => {
    it.each(MATRIX.map(([tool, action, allowed, cell]) => [`${tool}.${action}`, tool, action, allowed, cell] as const))('%s', async (_name, tool, action, allowed, cell) => {
      const caller = `as-${role}`;
      const args = await cell.setup(sessions.owner, ++n, caller);
      if (allowed.includes(role)) {
        const result = await sessions[role].call(tool, { action, ...callArgs(args) });
        await cell.effect(sessions.owner, args, result, caller);
      } else {
        const error = await sessions[role].fail(tool, { action, ...callArgs(args) });
        expect(error).toMatch(/^PERMISSION_DENIED/);
        if (allowed.length && !['role_create', 'role_update', 'role_delete', 'purge'].includes(action)) expect(error).toContain(`roles that may: ${allowed.join(', ')}`);
        await cell.unchanged(sessions.owner, args);
      }
    });
  });

  it.each(MATRIX.map(([tool, action, , cell]) => [`${tool}.${action}`, tool, action, cell] as const))('lets the owner %s', async (_name, tool, action, cell) => {
    // The owner is no agent: it claims for one (agent_id), and hands over a task of one.
    const onBehalfOf = 'as-lead';
    const args = await cell.setup(sessions.owner, ++n, onBehalfOf);
    const extra = { ...(tool !== 'team_manage' && !('team_id' in args) ? { team_id: TEAM } : {}), ...(action.startsWith('claim') ? { agent_id: onBehalfOf } : {}) };
    const result = await sessions.owner.call(tool, { action, ...extra, ...callArgs(args) });
    await cell.effect(sessions.owner, args, result, onBehalfOf);
  });
});
