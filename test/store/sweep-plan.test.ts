import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { unresponsiveClaimsDue } from '../../src/core/liveness.js';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

describe('sweep reads (SQLite)', () => {
  it('looks for the claims of unresponsive agents without reading the tasks in progress while no agent is unresponsive', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'bot' });
    for (let i = 0; i < 3; i++) await t.call(OWNER, 'team_task', { action: 'create', title: `t${i}` });
    for (let i = 0; i < 3; i++) await t.call(agent('bot'), 'team_task', { action: 'claim_next' });

    // Every statement the check runs, whether or not the connection prepared it before.
    const probe = new Database(':memory:');
    const statement = Object.getPrototypeOf(probe.prepare('select 1'));
    probe.close();
    const read = statement.all;
    const sources: string[] = [];
    statement.all = function (this: { source: string }, ...args: unknown[]) {
      sources.push(this.source);
      return read.apply(this, args);
    };
    try {
      expect(await unresponsiveClaimsDue(t.store.db, new Date().toISOString())).toBe(false);
    } finally {
      statement.all = read;
    }

    // Servers ask once a second; reading every task in progress (and its agent) for it grew with the work under way.
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.filter((source) => /\bfrom "team_tasks"/.test(source))).toEqual([]);
  });
});
