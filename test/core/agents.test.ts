import { describe, expect, it } from 'vitest';
import { agentIdFromName } from '../../src/core/ids.js';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

describe('agents', () => {
  it('derives the id from the name', () => {
    expect(agentIdFromName('Mary Jane')).toBe('mary-jane');
    expect(agentIdFromName('  Zoë  O’Brien ')).toBe('zoe-obrien');
    expect(agentIdFromName('R2_D2')).toBe('r2-d2');
    expect(agentIdFromName('!!!')).toBe('');
  });

  it('creates an agent with the seed fields and defaults', async () => {
    const t = await openCore();
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'DevClaw OS' });
    const siri = await t.call(OWNER, 'team_agent', {
      action: 'create', team_id: 'devclaw-os', name: 'Siri', role: 'Personal Assistant', personality: 'Helpful',
      instructions: 'Help with daily tasks', level: 'mid', heartbeat_schedule: '*/15 * * * *', skills: ['calendar'],
    });
    expect(siri).toMatchObject({ id: 'siri', name: 'Siri', level: 'mid', status: 'idle', skills: ['calendar'], heartbeat_schedule: '*/15 * * * *', model: '' });
    const mary = await t.call(OWNER, 'team_agent', { action: 'create', name: 'Mary Jane' });
    expect(mary).toMatchObject({ id: 'mary-jane', level: 'mid', heartbeat_schedule: '*/15 * * * *' });
  });

  it('refuses a clashing id, an empty id and an invalid cron expression, naming the field', async () => {
    const t = await openCore();
    await seedTeam(t);
    await expect(t.call(OWNER, 'team_agent', { action: 'create', name: 'JARVIS' })).rejects.toThrow(/agent id 'jarvis'.*already taken/);
    await expect(t.call(OWNER, 'team_agent', { action: 'create', name: '???' })).rejects.toThrow(/^name: must contain a letter or digit/);
    await expect(t.call(OWNER, 'team_agent', { action: 'create', name: 'Vision', heartbeat_schedule: 'every minute' })).rejects.toThrow(/heartbeat_schedule .*cron expression/);
    await expect(t.call(OWNER, 'team_agent', { action: 'create', name: 'Vision', level: 'boss' })).rejects.toThrow(/level must be one of "junior", "mid", "senior", "lead"/);
    expect((await t.call(OWNER, 'team_agent', { action: 'list' })).count).toBe(2);
  });

  it('updates, stops, starts and deletes agents', async () => {
    const t = await openCore();
    await seedTeam(t);
    const jarvis = await t.call(OWNER, 'team_agent', { action: 'update', agent_id: 'jarvis', role: 'Senior Squad Lead', personality: 'More decisive', heartbeat_schedule: '*/10 * * * *' });
    expect(jarvis).toMatchObject({ role: 'Senior Squad Lead', personality: 'More decisive', heartbeat_schedule: '*/10 * * * *', level: 'lead' });
    expect((await t.call(OWNER, 'team_agent', { action: 'stop', agent_id: 'loki' })).status).toBe('stopped');
    expect((await t.call(OWNER, 'team_agent', { action: 'list', status: 'stopped' })).agents.map((a: any) => a.id)).toEqual(['loki']);
    expect((await t.call(OWNER, 'team_agent', { action: 'start', agent_id: 'loki' })).status).toBe('idle');
    await t.call(OWNER, 'team_agent', { action: 'delete', agent_id: 'loki' });
    await expect(t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'loki' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('lets an agent edit its own profile but not its level, and not others unless it is a lead', async () => {
    const t = await openCore();
    await seedTeam(t);
    expect((await t.call(agent('loki'), 'team_agent', { action: 'update', personality: 'Wry' })).personality).toBe('Wry');
    await expect(t.call(agent('loki'), 'team_agent', { action: 'update', level: 'lead' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(t.call(agent('loki'), 'team_agent', { action: 'update', agent_id: 'jarvis', role: 'x' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(t.call(agent('loki'), 'team_agent', { action: 'create', name: 'Thor' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect((await t.call(agent('jarvis'), 'team_agent', { action: 'update', agent_id: 'loki', level: 'senior' })).level).toBe('senior');
  });

  it('refuses a session whose agent does not exist, saying how to create it', async () => {
    const t = await openCore();
    await seedTeam(t);
    await expect(t.call(agent('ghost'), 'team_task', { action: 'list' })).rejects.toThrow(/agent 'ghost' not found.*team_agent\(action='create'/);
  });
});

describe('working state (WORKING.md)', () => {
  it('saves, returns rendered and clears the working state, and the agent status follows', async () => {
    const t = await openCore();
    await seedTeam(t);
    const empty = await t.call(OWNER, 'team_agent', { action: 'working_get', agent_id: 'jarvis' });
    expect(empty).toMatchObject({ agent_id: 'jarvis', status: 'idle', current_task_id: '', next_steps: '' });
    const saved = await t.call(OWNER, 'team_agent', {
      action: 'working_update', agent_id: 'jarvis', current_task_id: 'xyz78901', status: 'working',
      next_steps: '1. Complete authentication\n2. Add tests\n3. Review with team', context: 'Implementing OAuth2 with Google provider',
    });
    expect(saved.markdown).toBe(
      '## Current Work State (WORKING.md)\n- Status: working\n- Current Task: xyz78901\n- Next Steps:\n1. Complete authentication\n2. Add tests\n3. Review with team\n- Context: Implementing OAuth2 with Google provider',
    );
    // a partial update keeps the other fields
    const partial = await t.call(agent('jarvis'), 'team_agent', { action: 'working_update', next_steps: '1. Add tests' });
    expect(partial).toMatchObject({ status: 'working', current_task_id: 'xyz78901', next_steps: '1. Add tests', context: 'Implementing OAuth2 with Google provider' });
    expect(await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'jarvis' })).toMatchObject({ status: 'working', current_task_id: 'xyz78901' });
    await t.call(OWNER, 'team_agent', { action: 'working_clear', agent_id: 'jarvis' });
    expect(await t.call(OWNER, 'team_agent', { action: 'working_get', agent_id: 'jarvis' })).toMatchObject({ status: 'idle', current_task_id: '', context: '' });
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'jarvis' })).status).toBe('idle');
  });

  it("keeps another agent's working state private unless the actor is a lead or the owner", async () => {
    const t = await openCore();
    await seedTeam(t);
    await expect(t.call(agent('loki'), 'team_agent', { action: 'working_update', agent_id: 'jarvis', status: 'idle' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(t.call(agent('loki'), 'team_agent', { action: 'working_get', agent_id: 'jarvis' })).rejects.toThrow(/only that agent, a lead or the owner/);
    expect((await t.call(agent('jarvis'), 'team_agent', { action: 'working_update', agent_id: 'loki', status: 'waiting' })).status).toBe('waiting');
    await expect(t.call(OWNER, 'team_agent', { action: 'working_update', status: 'working' })).rejects.toThrow(/agent_id is required/);
  });
});
