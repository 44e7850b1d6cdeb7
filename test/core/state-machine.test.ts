import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TASK_STATUSES } from '../../src/core/fields.js';
import { allowedTransitions } from '../../src/core/workflow.js';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

type Step = { kind: 'update'; status: string } | { kind: 'claim' | 'release' | 'renew' | 'approve' | 'reassign' } | { kind: 'request_changes' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('update' as const), status: fc.constantFrom(...TASK_STATUSES) }),
  fc.record({ kind: fc.constantFrom('claim' as const, 'release' as const, 'renew' as const, 'approve' as const, 'reassign' as const, 'request_changes' as const) }),
);

describe('task state machine (property)', () => {
  it('keeps its invariants under any sequence of calls; refused calls change nothing', async () => {
    const t = await openCore();
    await seedTeam(t);
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), fc.boolean(), async (steps, withReviewer) => {
        const created = await t.call(OWNER, 'team_task', { action: 'create', title: 'prop', ...(withReviewer ? { reviewer: 'jarvis' } : {}) });
        const get = () => t.call(OWNER, 'team_task', { action: 'get', task_id: created.id });
        for (const s of steps) {
          const before = await get();
          const args: Record<string, unknown> = { action: s.kind, task_id: created.id };
          if (s.kind === 'update') args.status = s.status;
          if (s.kind === 'request_changes') args.content = 'again';
          if (s.kind === 'reassign') args.new_assignee = 'loki';
          const actor = s.kind === 'approve' || s.kind === 'request_changes' ? OWNER : agent('loki');
          let accepted = true;
          try {
            await t.call(actor, 'team_task', args);
          } catch (error) {
            accepted = false;
            expect((error as { code?: string }).code).toBeDefined();
          }
          const after = await get();
          const { feed: _a, feed_text: _b, ...stateAfter } = after;
          const { feed: _c, feed_text: _d, ...stateBefore } = before;
          if (!accepted) expect(stateAfter).toEqual(stateBefore);
          else expect(after.version).toBeGreaterThan(before.version);
          if (accepted && s.kind === 'update' && s.status !== before.status) expect(allowedTransitions(before)).toContain(s.status);
          // invariants
          expect(TASK_STATUSES).toContain(after.status);
          expect(after.completed_at !== '').toBe(after.status === 'done');
          if (after.claimed_by) expect(after.status === 'in_progress' && after.lease_expires_at !== '').toBe(true);
          if (['done', 'cancelled'].includes(before.status)) expect(after.status).toBe(before.status);
          if (after.status === 'blocked') expect(allowedTransitions(after)[0]).not.toBe('blocked');
        }
      }),
      { numRuns: 40 },
    );
  });
});
