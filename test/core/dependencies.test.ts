import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

describe('dependencies', () => {
  it('takes blocked_by and blocks, refuses cycles naming them, and unblocks when the last dependency is done', async () => {
    const t = await openCore();
    await seedTeam(t);
    const schema = await t.call(OWNER, 'team_task', { action: 'create', title: 'schema' });
    const auth = await t.call(OWNER, 'team_task', { action: 'create', title: 'auth' });
    const api = await t.call(OWNER, 'team_task', { action: 'create', title: 'api', blocked_by: [schema.id], assignees: ['loki'] });
    await t.call(OWNER, 'team_task', { action: 'update', task_id: auth.id, blocks: [api.id] });
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: api.id })).waiting_on.sort()).toEqual([auth.id, schema.id].sort());
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: schema.id })).blocks).toEqual([api.id]);
    await expect(t.call(OWNER, 'team_task', { action: 'update', task_id: schema.id, blocked_by: [api.id] })).rejects.toThrow(`blocked_by: ${api.id} would close a dependency cycle`);
    await expect(t.call(OWNER, 'team_task', { action: 'update', task_id: schema.id, blocked_by: [schema.id] })).rejects.toThrow(/cannot depend on itself/);
    await expect(t.call(OWNER, 'team_task', { action: 'update', task_id: schema.id, blocked_by: ['nope1234'] })).rejects.toThrow(/blocked_by: names no task of this team: nope1234/);

    for (const dep of [schema, auth]) {
      await t.call(agent('jarvis'), 'team_task', { action: 'claim', task_id: dep.id });
      await t.call(agent('jarvis'), 'team_task', { action: 'update', task_id: dep.id, status: 'done' });
    }
    const ready = await t.call(OWNER, 'team_task', { action: 'get', task_id: api.id });
    expect(ready.waiting_on).toEqual([]);
    expect(ready.feed.map((e: any) => e.kind)).toContain('unblocked');
    const mail = await t.call(agent('loki'), 'team_comm', { action: 'mention_check' });
    expect(mail.messages.map((m: any) => m.content)).toEqual(expect.arrayContaining([expect.stringMatching(/^\[task_unblocked\] 'api'/)]));
    expect((await t.call(agent('loki'), 'team_task', { action: 'claim_next' })).task.id).toBe(api.id);
  });

  it('never accepts a cycle, and always unblocks a task once all its dependencies are done (property)', async () => {
    const t = await openCore();
    await seedTeam(t);
    const SIZE = 7;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(SIZE - 1), fc.nat(SIZE - 1)), { maxLength: 20 }),
        fc.shuffledSubarray([...Array(SIZE).keys()], { minLength: SIZE, maxLength: SIZE }),
        async (edges, doneOrder) => {
          const ids: string[] = [];
          for (let i = 0; i < SIZE; i++) ids.push((await t.call(OWNER, 'team_task', { action: 'create', title: `n${i}` })).id);
          const accepted = new Map<number, Set<number>>();
          for (const [from, to] of edges) {
            const current = [...(accepted.get(from) ?? [])];
            try {
              await t.call(OWNER, 'team_task', { action: 'update', task_id: ids[from], blocked_by: [...current, to].map((i) => ids[i]) });
              accepted.set(from, new Set([...current, to]));
            } catch (error) {
              expect((error as Error).message).toMatch(/cycle|itself/);
            }
          }
          // what was accepted is acyclic: a topological order exists
          const remaining = new Map([...accepted].map(([k, v]) => [k, new Set(v)]));
          for (let changed = true; changed; ) {
            changed = false;
            for (const [node, deps] of remaining) {
              if ([...deps].every((d) => !remaining.has(d))) {
                remaining.delete(node);
                changed = true;
              }
            }
          }
          expect(remaining.size).toBe(0);
          // completing in any order the graph allows: every task is ready exactly when its dependencies are done
          const done = new Set<number>();
          const order = [...doneOrder];
          while (order.length) {
            const index = order.findIndex((n) => [...(accepted.get(n) ?? [])].every((d) => done.has(d)));
            const node = order.splice(index, 1)[0]!;
            await t.call(OWNER, 'team_task', { action: 'update', task_id: ids[node], status: 'in_progress' });
            await t.call(OWNER, 'team_task', { action: 'update', task_id: ids[node], status: 'done' });
            done.add(node);
            for (let i = 0; i < SIZE; i++) {
              const { waiting_on } = await t.call(OWNER, 'team_task', { action: 'get', task_id: ids[i] });
              expect(waiting_on.length === 0).toBe([...(accepted.get(i) ?? [])].every((d) => done.has(d)));
            }
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('subtasks', () => {
  it('shows progress on the parent and completes it when every subtask is done (built-in rule, can be turned off)', async () => {
    const t = await openCore();
    await seedTeam(t);
    const parent = await t.call(OWNER, 'team_task', { action: 'create', title: 'Release 1.0' });
    const a = await t.call(OWNER, 'team_task', { action: 'create', title: 'docs', parent_id: parent.id });
    const b = await t.call(OWNER, 'team_task', { action: 'create', title: 'tests', parent_id: parent.id });
    await expect(t.call(OWNER, 'team_task', { action: 'update', task_id: parent.id, parent_id: a.id })).rejects.toThrow(/parent_id: .* is this task or one of its subtasks/);
    for (const sub of [a, b]) {
      await t.call(OWNER, 'team_task', { action: 'update', task_id: sub.id, status: 'in_progress' });
      await t.call(OWNER, 'team_task', { action: 'update', task_id: sub.id, status: 'done' });
      const view = await t.call(OWNER, 'team_task', { action: 'get', task_id: parent.id });
      if (sub === a) expect(view).toMatchObject({ status: 'inbox', progress: { total: 2, done: 1 } });
    }
    const finished = await t.call(OWNER, 'team_task', { action: 'get', task_id: parent.id });
    expect(finished).toMatchObject({ status: 'done', progress: { total: 2, done: 2 } });
    expect(finished.feed_text).toMatch(/rule:parent-complete/);

    await t.call(OWNER, 'team_manage', { action: 'rule_update', rule_id: 'parent-complete', enabled: false });
    const other = await t.call(OWNER, 'team_task', { action: 'create', title: 'Release 2.0' });
    const c = await t.call(OWNER, 'team_task', { action: 'create', title: 'notes', parent_id: other.id });
    await t.call(OWNER, 'team_task', { action: 'update', task_id: c.id, status: 'in_progress' });
    await t.call(OWNER, 'team_task', { action: 'update', task_id: c.id, status: 'done' });
    expect(await t.call(OWNER, 'team_task', { action: 'get', task_id: other.id })).toMatchObject({ status: 'inbox', progress: { total: 1, done: 1 } });
  });
});
