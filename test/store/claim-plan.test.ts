import { CompiledQuery } from 'kysely';
import { describe, expect, it } from 'vitest';
import { inboxHead } from '../../src/core/claims.js';
import { Ctx } from '../../src/core/context.js';
import { OWNER, openCore, seedTeam } from '../helpers.js';

describe('claim_next query plan (SQLite)', () => {
  it('reads the inbox off tasks_ready_queue in order: no scan of the tasks, no sort', async () => {
    const t = await openCore();
    const team = await seedTeam(t);
    await t.call(OWNER, 'team_task', { action: 'create', title: 'x' });
    const ctx = new Ctx(t.store.db, { kind: 'owner', id: 'ana' }, new Date().toISOString());
    const query = inboxHead(ctx, team.id, {}).compile();
    const plan = await t.store.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]));
    const details = plan.rows.map((r) => r.detail);
    expect(details[0]).toMatch(/^SEARCH t USING INDEX tasks_ready_queue \(team_id=\? AND status=\?\)/);
    expect(details.join('\n')).not.toMatch(/SCAN t\b|TEMP B-TREE/);
  });
});
