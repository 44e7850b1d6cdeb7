import { describe, expect, it } from 'vitest';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

describe('teams', () => {
  it('creates a team with an 8-char id and resolves it by id or by name in any spelling', async () => {
    const t = await openCore();
    const team = await t.call(OWNER, 'team_manage', { action: 'create', name: 'DevClaw OS', description: 'Main development team' });
    expect(team.id).toMatch(/^[0-9a-z]{8}$/);
    expect(team).toMatchObject({ name: 'DevClaw OS', description: 'Main development team', owner_jid: 'ana', enabled: true });
    for (const ref of [team.id, 'DevClaw OS', 'devclaw-os', 'DEVCLAW_OS', 'devclaw os']) {
      expect((await t.call(OWNER, 'team_manage', { action: 'get', team_id: ref })).id).toBe(team.id);
      expect((await t.call(OWNER, 'team_task', { action: 'list', team_id: ref })).team_id).toBe(team.id);
    }
  });

  it('uses the only team when team_id is omitted, and asks which when there are several', async () => {
    const t = await openCore();
    await expect(t.call(OWNER, 'team_task', { action: 'list' })).rejects.toThrow(/no team exists yet/);
    const first = await t.call(OWNER, 'team_manage', { action: 'create', name: 'Alpha' });
    expect((await t.call(OWNER, 'team_task', { action: 'list' })).team_id).toBe(first.id);
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Beta' });
    await expect(t.call(OWNER, 'team_task', { action: 'list' })).rejects.toThrow(/team_id is required.*'Alpha'.*'Beta'/);
  });

  it('says how to list teams when a team is unknown', async () => {
    const t = await openCore();
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Alpha' });
    await expect(t.call(OWNER, 'team_manage', { action: 'get', team_id: 'gamma' })).rejects.toThrow(
      "team 'gamma' not found; list teams with team_manage(action='list')",
    );
  });

  it('refuses a second team whose name differs only in case or separators', async () => {
    const t = await openCore();
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'DevClaw OS' });
    await expect(t.call(OWNER, 'team_manage', { action: 'create', name: 'devclaw_os' })).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('updates team properties and deletes a team with all its data', async () => {
    const t = await openCore();
    await seedTeam(t);
    const updated = await t.call(OWNER, 'team_manage', { action: 'update', team_id: 'engineering', name: 'Engineering Team', description: 'Core engineering team', default_model: 'gpt-4.1-mini' });
    expect(updated).toMatchObject({ name: 'Engineering Team', description: 'Core engineering team', default_model: 'gpt-4.1-mini' });
    expect((await t.call(OWNER, 'team_manage', { action: 'get', team_id: 'engineering team' })).agents.map((a: any) => a.id)).toEqual(['jarvis', 'loki']);
    await t.call(OWNER, 'team_task', { action: 'create', title: 'x', assignees: ['loki'] });
    await t.call(OWNER, 'team_manage', { action: 'delete', team_id: 'engineering team' });
    expect((await t.call(OWNER, 'team_manage', { action: 'list' })).teams).toEqual([]);
    const left = await t.store.db.selectFrom('team_tasks').selectAll().execute();
    expect(left).toEqual([]);
    expect(await t.store.db.selectFrom('persistent_agents').selectAll().execute()).toEqual([]);
  });

  it('lets only the owner create teams, and shows an agent only its own team', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Other' });
    await expect(t.call(agent('jarvis'), 'team_manage', { action: 'create', name: 'Mine' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect((await t.call(agent('loki'), 'team_manage', { action: 'list' })).teams.map((x: any) => x.name)).toEqual(['Engineering']);
    // an agent's own team is its default even when several exist
    expect((await t.call(agent('loki'), 'team_task', { action: 'list' })).tasks).toEqual([]);
    await expect(t.call(agent('loki'), 'team_task', { action: 'list', team_id: 'other' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });
});
