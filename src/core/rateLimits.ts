import type { Ctx } from './context.js';

/**
 * Rate limits: a rule's `rate_limit` and the global `rate_limit_per_hour`, each over the last hour (a sliding
 * window, counted off the outbox in the routing transaction, so concurrent writers cannot both slip under it).
 * A notification over a limit is dropped — its deliveries are recorded in state `dropped`, never sent — rather
 * than folded into a digest: a digest sent later would arrive when the burst is over and say less than the
 * notify_list it summarises, while the drop stays visible (counted on the rule, shown in notify_list).
 * The unit is a notification routed by a rule, whatever its number of destinations.
 */

const HOUR_MS = 3_600_000;

/** Why a notification routed by `ruleId` now is over a limit, or undefined when it is not. */
export async function rateLimitReason(ctx: Ctx, ruleId: string, ruleLimit: number, globalLimit: number, configRuleIds: string[]): Promise<string | undefined> {
  const since = new Date(Date.parse(ctx.now) - HOUR_MS).toISOString();
  if (ruleId && ruleLimit > 0) {
    const { n } = await ctx.db
      .selectFrom('notification_deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('rule_id', '=', ruleId)
      .where('counted', '=', 1)
      .where('created_at', '>', since)
      .executeTakeFirstOrThrow();
    if (Number(n) >= ruleLimit) return `rate limit: the rule allows ${ruleLimit} notification${ruleLimit === 1 ? '' : 's'} an hour`;
  }
  if (globalLimit > 0) {
    // Every rule's recent rows, one index range per rule (and '' for defaults.owner): an index of its own would cost
    // every notifying call. A deleted rule's deliveries stop counting.
    const rules = [...(await ctx.db.selectFrom('notification_rules').select('id').execute()).map((r) => r.id), ...configRuleIds, ''];
    const { n } = await ctx.db
      .selectFrom('notification_deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('rule_id', 'in', rules)
      .where('counted', '=', 1)
      .where('created_at', '>', since)
      .executeTakeFirstOrThrow();
    if (Number(n) >= globalLimit) return `rate limit: rate_limit_per_hour allows ${globalLimit} notification${globalLimit === 1 ? '' : 's'} an hour`;
  }
  return undefined;
}
