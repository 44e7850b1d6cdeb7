import { describe, expect, it } from 'vitest';
import { hashToken } from '../../src/core/tokens.js';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

const reasonOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'authenticated',
    (error: { code: string; details: { reason: string } }) => `${error.code}:${error.details.reason}`,
  );

describe('bearer tokens', () => {
  it('shows a token once, keeps only its hash, and authenticates it as its agent or the owner', async () => {
    const t = await openCore();
    await seedTeam(t);
    const forLoki = await t.call(OWNER, 'team_agent', { action: 'token_create', agent_id: 'loki', name: 'laptop' });
    expect(forLoki.token).toMatch(/^tt_[A-Za-z0-9_-]{43}$/);
    expect(forLoki).toMatchObject({ kind: 'agent', agent_id: 'loki', name: 'laptop', created_by: 'ana', revoked_at: '' });
    const stored = await t.store.db.selectFrom('tokens').selectAll().where('id', '=', forLoki.id).executeTakeFirstOrThrow();
    expect(stored.token_hash).toBe(hashToken(forLoki.token));
    expect(JSON.stringify(stored)).not.toContain(forLoki.token.slice(3));
    const listed = await t.call(OWNER, 'team_agent', { action: 'token_list' });
    expect(JSON.stringify(listed)).not.toContain(forLoki.token.slice(3));
    expect(JSON.stringify(listed)).not.toContain(stored.token_hash);
    expect(await t.core.authenticate(forLoki.token)).toEqual({ actor: { kind: 'agent', id: 'loki', session: `token:${forLoki.id}` }, tokenId: forLoki.id });

    const forOwner = await t.call(OWNER, 'team_agent', { action: 'token_create', owner: true });
    expect(await t.core.authenticate(forOwner.token)).toEqual({ actor: { kind: 'owner', name: 'ana', session: `token:${forOwner.id}` }, tokenId: forOwner.id });
    const log = await t.store.db.selectFrom('team_events').select(['type', 'data', 'message']).where('type', 'like', 'token_%').execute();
    expect(log.map((e) => e.type)).toEqual(['token_created', 'token_created']);
    expect(JSON.stringify(log)).not.toContain(forOwner.token.slice(3));
  });

  it('tells a missing, malformed, unknown and revoked token apart, and a revoked one stays revoked', async () => {
    const t = await openCore();
    await seedTeam(t);
    const { id, token } = await t.call(OWNER, 'team_agent', { action: 'token_create', agent_id: 'jarvis' });
    expect(await reasonOf(t.core.authenticate(undefined))).toBe('UNAUTHENTICATED:missing');
    expect(await reasonOf(t.core.authenticate('letmein'))).toBe('UNAUTHENTICATED:malformed');
    expect(await reasonOf(t.core.authenticate(`tt_${'A'.repeat(43)}`))).toBe('UNAUTHENTICATED:unknown');
    expect(await reasonOf(t.core.authenticate(token))).toBe('authenticated');
    await t.call(OWNER, 'team_agent', { action: 'token_revoke', token_id: id });
    expect(await reasonOf(t.core.authenticate(token))).toBe('UNAUTHENTICATED:revoked');
    expect(await t.call(OWNER, 'team_agent', { action: 'token_revoke', token_id: id })).toMatchObject({ already_revoked: true });
    await expect(t.call(OWNER, 'team_agent', { action: 'token_revoke', token_id: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('lets the owner manage every token, a lead its own team’s, an agent only revoke its own', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Elsewhere' });
    await t.call(OWNER, 'team_agent', { action: 'create', team_id: 'elsewhere', name: 'Outsider', level: 'lead' });
    const byLead = await t.call(agent('jarvis'), 'team_agent', { action: 'token_create', agent_id: 'loki' });
    expect(byLead).toMatchObject({ agent_id: 'loki', created_by: 'jarvis' });
    await expect(t.call(agent('loki'), 'team_agent', { action: 'token_create', agent_id: 'loki' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(t.call(agent('loki'), 'team_agent', { action: 'token_list' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(t.call(agent('jarvis'), 'team_agent', { action: 'token_create', owner: true })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(t.call(agent('outsider'), 'team_agent', { action: 'token_create', agent_id: 'loki' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(t.call(agent('outsider'), 'team_agent', { action: 'token_revoke', token_id: byLead.id })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect((await t.call(agent('outsider'), 'team_agent', { action: 'token_list' })).tokens).toEqual([]);
    expect((await t.call(agent('jarvis'), 'team_agent', { action: 'token_list' })).tokens.map((k: any) => k.id)).toEqual([byLead.id]);

    const own = await t.call(OWNER, 'team_agent', { action: 'token_create', agent_id: 'loki' });
    const jarvisToken = await t.call(OWNER, 'team_agent', { action: 'token_create', agent_id: 'jarvis' });
    await expect(t.call(agent('loki'), 'team_agent', { action: 'token_revoke', token_id: jarvisToken.id })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await t.call(agent('loki'), 'team_agent', { action: 'token_revoke', token_id: own.id })).toMatchObject({ revoked_by: 'loki' });
  });

  it('dies with its agent: an agent created later under the same name does not inherit it', async () => {
    const t = await openCore();
    await seedTeam(t);
    const { token } = await t.call(OWNER, 'team_agent', { action: 'token_create', agent_id: 'loki' });
    await t.call(OWNER, 'team_agent', { action: 'delete', agent_id: 'loki' });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Loki' });
    expect(await reasonOf(t.core.authenticate(token))).toBe('UNAUTHENTICATED:unknown');
  });

  it('pages newest first with a cursor, and filters owner tokens, agents, revoked ones', async () => {
    const t = await openCore();
    await seedTeam(t);
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      made.push((await t.call(OWNER, 'team_agent', { action: 'token_create', agent_id: i % 2 ? 'loki' : 'jarvis' })).id);
      t.clock.advance(1000);
    }
    const owner = await t.call(OWNER, 'team_agent', { action: 'token_create', owner: true });
    await t.call(OWNER, 'team_agent', { action: 'token_revoke', token_id: made[0] });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { tokens: { id: string }[]; next_cursor: string | null } = await t.call(OWNER, 'team_agent', { action: 'token_list', include_revoked: true, limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.tokens.length).toBeLessThanOrEqual(2);
      seen.push(...page.tokens.map((k) => k.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([owner.id, ...[...made].reverse()]);
    expect((await t.call(OWNER, 'team_agent', { action: 'token_list' })).tokens.map((k: any) => k.id)).not.toContain(made[0]);
    expect((await t.call(OWNER, 'team_agent', { action: 'token_list', owner: true })).tokens.map((k: any) => k.id)).toEqual([owner.id]);
    expect((await t.call(OWNER, 'team_agent', { action: 'token_list', agent_id: 'loki' })).tokens.map((k: any) => k.id)).toEqual([made[3], made[1]]);
    await expect(t.call(OWNER, 'team_agent', { action: 'token_list', cursor: 'garbage' })).rejects.toMatchObject({ code: 'VALIDATION' });
  });
});
