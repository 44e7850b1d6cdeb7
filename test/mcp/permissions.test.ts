import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpSession } from '../helpers.js';
import { spawnSession, tempDbPath } from '../helpers.js';

/**
 * The permission matrix: every restricted action × every role template, over MCP, each role an agent in its own
 * server process. Arguments name a team or an item that does not exist, so an allowed call fails *after* the
 * permission check (NOT_FOUND) and changes nothing; a refused one fails with PERMISSION_DENIED.
 */
const TEMPLATES = ['lead', 'architect', 'coder', 'reviewer', 'async-worker'] as const;
type Template = (typeof TEMPLATES)[number];

const ALL = [...TEMPLATES];
const MATRIX: [string, string, Record<string, unknown>, Template[]][] = [
  ['team_manage', 'create', { name: 'Another team' }, []],
  ['team_manage', 'delete', { team_id: 'nope' }, []],
  ['team_manage', 'update', { team_id: 'nope', description: 'x' }, ['lead']],
  ['team_manage', 'rule_create', { team_id: 'nope', name: 'r', trigger: 'task.created', rule_action: { type: 'add_label', label: 'x' } }, ['lead']],
  ['team_manage', 'rule_update', { team_id: 'nope', rule_id: 'r', enabled: false }, ['lead']],
  ['team_manage', 'rule_delete', { team_id: 'nope', rule_id: 'r' }, ['lead']],
  ['team_manage', 'role_create', { team_id: 'nope', name: 'r' }, ['lead']],
  ['team_manage', 'role_update', { team_id: 'nope', name: 'r' }, ['lead']],
  ['team_manage', 'role_delete', { team_id: 'nope', name: 'r' }, ['lead']],
  ['team_agent', 'create', { team_id: 'nope', name: 'New' }, ['lead']],
  ['team_agent', 'delete', { agent_id: 'nobody' }, ['lead']],
  ['team_task', 'create', { team_id: 'nope', title: 't' }, ['lead', 'architect', 'coder']],
  ['team_task', 'update', { task_id: 'nope', title: 't' }, ALL],
  ['team_task', 'assign', { task_id: 'nope', assignees: [] }, ['lead', 'architect']],
  ['team_task', 'delete', { task_id: 'nope' }, ['lead', 'architect']],
  ['team_task', 'claim', { task_id: 'nope' }, ALL],
  ['team_task', 'claim_next', { team_id: 'nope' }, ALL],
  ['team_task', 'approve', { task_id: 'nope' }, ['lead', 'architect', 'reviewer']],
  ['team_task', 'request_changes', { task_id: 'nope', content: 'x' }, ['lead', 'architect', 'reviewer']],
  ['team_task', 'reassign', { task_id: 'nope', new_assignee: 'x' }, ['lead', 'architect', 'coder', 'async-worker']],
  ['team_memory', 'fact_save', { team_id: 'nope', key: 'k', value: 'v' }, ['lead', 'architect', 'coder', 'reviewer']],
  ['team_memory', 'fact_delete', { team_id: 'nope', key: 'k' }, ['lead', 'architect']],
  ['team_memory', 'doc_create', { team_id: 'nope', title: 't', content: 'c' }, ALL],
  ['team_memory', 'doc_update', { team_id: 'nope', doc_id: 'd', content: 'c' }, ALL],
  ['team_memory', 'doc_delete', { team_id: 'nope', doc_id: 'd' }, ['lead', 'architect']],
  ['team_comm', 'broadcast', { team_id: 'nope', content: 'hi' }, ['lead', 'architect']],
  ['team_comm', 'purge', { team_id: 'nope', before_date: '2020-01-01' }, ['lead']],
];

describe('permission matrix over MCP', () => {
  const sessions = {} as Record<Template | 'owner', McpSession>;

  beforeAll(async () => {
    const db = tempDbPath();
    sessions.owner = await spawnSession(db, { persistent: true });
    await sessions.owner.call('team_manage', { action: 'create', name: 'Governed' });
    for (const role of TEMPLATES) {
      // level mid everywhere: the role definition alone decides
      await sessions.owner.call('team_agent', { action: 'create', name: `as ${role}`, level: 'mid', role_definition: role });
      sessions[role] = await spawnSession(db, { agent: `as-${role}`, persistent: true });
    }
  });
  afterAll(async () => {
    for (const session of Object.values(sessions)) await session.close();
  });

  describe.each(TEMPLATES)('role %s', (role) => {
    it.each(MATRIX.map(([tool, action, args, allowed]) => [`${tool}.${action}`, tool, action, args, allowed] as const))('%s', async (_name, tool, action, args, allowed) => {
      const error = await sessions[role].fail(tool, { action, ...args });
      if (allowed.includes(role)) {
        expect(error).not.toMatch(/^PERMISSION_DENIED/);
      } else {
        expect(error).toMatch(/^PERMISSION_DENIED/);
        if (allowed.length && !['role_create', 'role_update', 'role_delete', 'purge'].includes(action)) expect(error).toContain(`roles that may: ${allowed.join(', ')}`);
      }
    });
  });

  it('lets the owner do anything', async () => {
    // team_manage.create would succeed (and is the one action an owner's arguments cannot make fail harmlessly)
    for (const [tool, action, args] of MATRIX.filter(([tool, action]) => `${tool}.${action}` !== 'team_manage.create')) {
      expect(await sessions.owner.fail(tool, { action, ...args })).not.toMatch(/^PERMISSION_DENIED/);
    }
  });
});
