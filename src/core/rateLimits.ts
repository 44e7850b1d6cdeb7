import { sql } from 'kysely';
import { NOT_FRESH } from '../store/migrations/019_fresh_deliveries.js';
import type { Ctx } from './context.js';
import { freshDeliveries } from './freshDeliveries.js';

/**
 * Rate limits: a rule's `rate_limit` and the global `rate_limit_per_hour`, each over the last hour (a sliding
 * window, counted off the outbox in the routing transaction, so concurrent writers cannot both slip under it).
 * A notification over a limit is dropped — its deliveries are recorded in state `dropped`, never sent — rather
 * than folded into a digest: a digest sent later would arrive when the burst is over and say less than the
 * notify_list it summarises, while the drop stays visible (counted on the rule, shown in notify_list).
 * The unit is a notification routed by a rule, whatever its number of destinations.
 */

const HOUR_MS = 3_600_000;

/**
 * Notifications the rules `ruleIds` routed since `since`: one counted delivery each, those in deliveries_by_rule
 * and the fresh ones, in one statement (one snapshot: a sender taking fresh ones meanwhile moves them from one count
 * to the other).
 */
async function routedSince(ctx: Ctx, ruleIds: string[], since: string, unannounced: Iterable<string>): Promise<number> {
  const indexed = ctx.db
    .selectFrom('notification_deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(NOT_FRESH)
    .where('rule_id', 'in', ruleIds)
    .where('counted', '=', 1)
    .where('created_at', '>', since);
  const fresh = freshDeliveries(ctx.db, unannounced)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('rule_id', 'in', ruleIds)
    .where('counted', '=', 1)
    .where('created_at', '>', since);
  const { n } = await ctx.db.selectNoFrom(sql<number>`(${indexed}) + (${fresh})`.as('n')).executeTakeFirstOrThrow();
  return Number(n);
}

/**
 * Why a notification routed by `ruleId` now is over a limit, or undefined when it is not. `routedHere`: the
 * notifications this transaction has routed so far (this one too), whose events are not in the log yet.
 */
export async function rateLimitReason(ctx: Ctx, ruleId: string, ruleLimit: number, globalLimit: number, configRuleIds: string[], routedHere: Iterable<string>): Promise<string | undefined> {
  const since = new Date(Date.parse(ctx.now) - HOUR_MS).toISOString();
  if (ruleId && ruleLimit > 0 && (await routedSince(ctx, [ruleId], since, routedHere)) >= ruleLimit) {
    return `rate limit: the rule allows ${ruleLimit} notification${ruleLimit === 1 ? '' : 's'} an hour`;
  }
  if (globalLimit > 0) {
    // Every rule's recent rows, one index range per rule (and '' for defaults.owner): an index of its own would cost
    // every notifying call. A deleted rule's deliveries stop counting.
    const rules = [...(await ctx.db.selectFrom('notification_rules').select('id').execute()).map((r) => r.id), ...configRuleIds, ''];
    if ((await routedSince(ctx, rules, since, routedHere)) >= globalLimit) return `rate limit: rate_limit_per_hour allows ${globalLimit} notification${globalLimit === 1 ? '' : 's'} an hour`;
  }
  return undefined;
}
