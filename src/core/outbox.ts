import type { ExpressionBuilder } from 'kysely';
import { z } from 'zod';
import type { Database, DeliveryRow, NotificationRow } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { Db } from '../store/store.js';
import { DUE_DELIVERIES, SENDER_CURSOR } from '../store/migrations/019_fresh_deliveries.js';
import { defineAction } from './action.js';
import { FRESH_TO_TAKE } from './freshDeliveries.js';
import { Ctx } from './context.js';
import type { Clock } from './context.js';
import { notFound, validation } from './errors.js';
import { teamRef } from './fields.js';
import { LIMITS } from './limits.js';
import { bindSettings } from './notificationConfig.js';
import type { NotificationSettings } from './notificationConfig.js';
import type { RoutedDestination } from './notificationDestinations.js';
import { redactDestination } from './notificationDestinations.js';
import { findRule } from './notificationRules.js';
import type { DeliveryPayload } from './notificationRouting.js';
import { deliverToInbox, notificationOfDelivery, payloadOf } from './notificationRouting.js';
import { isQuiet, quietUntil } from './quietHours.js';
import { assertLead } from './roles.js';

/**
 * The outbox as the sender sees it: take the deliveries that are due, each under a lease of its own, so two live
 * senders never send one twice — fresh ones through their notifications' `notification_sent` events, read from the
 * event log after the sender's stored cursor, the others off `deliveries_due` (migration 019) — and record how each
 * attempt went: sent, retried later with exponential backoff and jitter (a 429's Retry-After honoured), or failed for
 * good (a 4xx other than 408 and 429, or too many attempts). Held deliveries whose quiet hours are over become due;
 * held mailbox deliveries are done here.
 */

/** How one attempt went, as the sender classifies the answer. */
export type AttemptOutcome = { ok: true } | { ok: false; final: boolean; error: string; retryAfterMs?: number };

export interface DueDelivery {
  id: string;
  notification_id: string;
  team_id: string;
  rule_id: string;
  destination: RoutedDestination;
  payload: DeliveryPayload;
  attempts: number;
}

const toDue = (row: DeliveryRow, payload: DeliveryPayload): DueDelivery => ({
  id: row.id,
  notification_id: row.notification_id,
  team_id: row.team_id,
  rule_id: row.rule_id,
  destination: JSON.parse(row.destination) as RoutedDestination,
  payload,
  attempts: row.attempts,
});

/** Outbox rows by their key — notification, then id (migration 017) — as updates name the rows they have read. */
const keyed = (rows: Pick<DeliveryRow, 'notification_id' | 'id'>[]) => (eb: ExpressionBuilder<Database, 'notification_deliveries'>) =>
  eb(eb.refTuple('notification_id', 'id'), 'in', rows.map((r) => eb.tuple(r.notification_id, r.id)));

/** The notifications of outbox rows, by id: a row keeps only what its notification's row does not (`payloadOf`). */
async function notificationsOf(db: Db, rows: DeliveryRow[]): Promise<Map<string, NotificationRow>> {
  if (rows.length === 0) return new Map();
  const notifications = await db.selectFrom('team_notifications').selectAll().where('id', 'in', [...new Set(rows.map((r) => r.notification_id))]).execute();
  return new Map(notifications.map((n) => [n.id, n]));
}

/** The backoff before attempt `attempts + 1`: base·2^(attempts-1), capped, then between half and all of it. */
export function backoffMs(attempts: number, settings: NotificationSettings['delivery'], random = Math.random): number {
  const full = Math.min(settings.max_backoff_seconds, settings.backoff_seconds * 2 ** Math.max(0, attempts - 1)) * 1000;
  return Math.round(full / 2 + random() * (full / 2));
}

/**
 * How far (in sequence numbers) the stored cursor may lag this process's reading of the log when the events passed
 * over have no fresh delivery: what counts a rule's deliveries reads the log after it, and should read little.
 */
const CURSOR_LAG = 200;

/** Fresh deliveries to take, in the order the log announced them, and the event up to which all of them are taken. */
interface FreshDeliveries {
  rows: DeliveryRow[];
  through: number;
  events: number;
}

export class NotificationOutbox {
  /**
   * This process has read the log up to here and found no fresh delivery left before it. The stored cursor follows
   * in the sender's writes: passing over events without any (a notification no rule routed) takes no write lock.
   */
  private seen = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    readonly settings: NotificationSettings,
  ) {}

  private context(db: Db, now: string): Ctx {
    const ctx = new Ctx(db, { kind: 'owner', id: 'notification-sender' }, now, this.store.dialect.name);
    bindSettings(ctx, this.settings);
    return ctx;
  }

  /**
   * How long a sender holds a delivery it is sending: twice the longest attempt, and ten seconds to record it. A
   * sender that died holding some makes them wait that long before another sends them.
   */
  get leaseMs(): number {
    return this.settings.delivery.timeout_seconds * 2_000 + 10_000;
  }

  /** The stored cursor: every `notification_sent` event up to it has no fresh delivery left. */
  private async stored(db: Db): Promise<number> {
    const row = await db.selectFrom('runner_cursors').select('seq').where('name', '=', SENDER_CURSOR).executeTakeFirst();
    return Number(row?.seq ?? 0);
  }

  private async storeCursor(tx: Db, seq: number): Promise<void> {
    await tx.updateTable('runner_cursors').set({ seq }).where('name', '=', SENDER_CURSOR).where('seq', '<', seq).execute();
  }

  /**
   * The fresh deliveries of the next `limit` notifications the log announced after `after`, whole notifications up
   * to `limit` deliveries (one at least). A notification's event and its deliveries commit together, so an event
   * read with none left fresh has none to come. A page of `limit` events, not more: each is a read of its deliveries.
   */
  private async fresh(db: Db, after: number, limit: number): Promise<FreshDeliveries> {
    // The log's head first: a short page of events reads the log up to it (numbers commit in order, so none below it
    // can appear later), and the cursor moves there even when no notification came — else it would stay at the last
    // one, and every look, and every count of a rule's deliveries, would read all the events since.
    const head = Number((await db.selectFrom('team_events').select((eb) => eb.fn.max<number | null>('seq').as('seq')).executeTakeFirst())?.seq ?? 0);
    const events = await db
      .selectFrom('team_events')
      .select(['seq', 'related_id'])
      .where('seq', '>', after)
      .where('seq', '<=', head)
      .where('type', '=', 'notification_sent')
      .orderBy('seq')
      .limit(limit)
      .execute();
    const readToHead = events.length < limit;
    if (events.length === 0) return { rows: [], through: Math.max(after, head), events: 0 };
    const rows = await db
      .selectFrom('notification_deliveries')
      .selectAll()
      .where('notification_id', 'in', [...new Set(events.map((e) => e.related_id))])
      .where(FRESH_TO_TAKE)
      .orderBy('notification_id')
      .orderBy('id')
      .execute();
    const byNotification = new Map<string, DeliveryRow[]>();
    for (const row of rows) byNotification.set(row.notification_id, [...(byNotification.get(row.notification_id) ?? []), row]);
    const taken: DeliveryRow[] = [];
    let through = after;
    let whole = true;
    for (const event of events) {
      const mine = byNotification.get(event.related_id) ?? [];
      if (taken.length > 0 && taken.length + mine.length > limit) {
        whole = false;
        break;
      }
      taken.push(...mine);
      byNotification.delete(event.related_id);
      through = Number(event.seq);
      if (taken.length >= limit) {
        whole = event === events.at(-1);
        break;
      }
    }
    return { rows: taken, through: whole && readToHead ? Math.max(through, head) : through, events: events.length };
  }

  /**
   * Takes up to `limit` due deliveries for `holder`: fresh ones first, in the order the log announced them, then
   * those `deliveries_due` holds in the order they were raised. Held ones still in their quiet hours are put off to
   * when those end; due mailbox deliveries are done on the spot. `scanned` counts every row and event looked at, so
   * a caller knows whether more may be waiting.
   */
  async claimDue(holder: string, limit: number): Promise<{ deliveries: DueDelivery[]; scanned: number }> {
    const now = this.clock().toISOString();
    // Per state, in index order (state, next_attempt_at, created_at), so a claim reads a few rows however many wait;
    // held ones first: they are the oldest. One `state in (…)` query would sort every due row on each claim.
    const due = (db: Db, state: 'held' | 'pending', n: number) =>
      db
        .selectFrom('notification_deliveries')
        .selectAll()
        .where(DUE_DELIVERIES)
        .where('state', '=', state)
        .where('next_attempt_at', '<=', now)
        .where('lease_expires_at', '<=', now)
        .orderBy('next_attempt_at')
        .orderBy('created_at')
        .limit(n)
        .execute();
    const look = async (db: Db, n: number) => {
      if (n <= 0) return [];
      const held = await due(db, 'held', n);
      return held.length < n ? [...held, ...(await due(db, 'pending', n - held.length))] : held;
    };
    // Looks without the write lock first: a sender woken for nothing must not queue behind the writers, and events
    // without fresh deliveries are passed over here. Under the lock only what these looks found is taken.
    let fresh: FreshDeliveries;
    let stored: number;
    do {
      stored = await this.stored(this.store.db);
      fresh = await this.fresh(this.store.db, Math.max(this.seen, stored), limit);
      if (fresh.rows.length === 0) this.seen = fresh.through;
    } while (fresh.rows.length === 0 && fresh.events === limit);
    const dueWaiting =
      fresh.rows.length < limit &&
      (await this.store.db
        .selectFrom('notification_deliveries')
        .select('id')
        .where(DUE_DELIVERIES)
        .where('next_attempt_at', '<=', now)
        .where('lease_expires_at', '<=', now)
        .limit(1)
        .executeTakeFirst()) !== undefined;
    if (fresh.rows.length === 0 && !dueWaiting) {
      // The stored cursor follows this reading now and then: counting a rule's deliveries reads the log after it.
      if (this.seen - stored >= CURSOR_LAG) await this.store.write((tx) => this.storeCursor(tx, this.seen));
      return { deliveries: [], scanned: fresh.events };
    }
    const leaseUntil = new Date(Date.parse(now) + this.leaseMs).toISOString();
    const lease = { lease_holder: holder, lease_expires_at: leaseUntil, updated_at: now, fresh: 0 };
    const claimed = await this.store.write(async (tx) => {
      const ctx = this.context(tx, now);
      // The fresh ones still fresh (another sender may have taken some meanwhile), in one statement. A fresh delivery
      // is one to send (a mailbox delivery is done when routed); taken, it enters deliveries_due under its lease: if
      // this sender dies, it is due again when the lease runs out.
      const taken = fresh.rows.length
        ? new Set((await tx.updateTable('notification_deliveries').set(lease).where(keyed(fresh.rows)).where(FRESH_TO_TAKE).where('lease_expires_at', '<=', now).returning('id').execute()).map((r) => r.id))
        : new Set<string>();
      if (Math.max(this.seen, fresh.through) > stored) await this.storeCursor(tx, Math.max(this.seen, fresh.through));
      const mine = fresh.rows.filter((row) => taken.has(row.id));
      const rows = dueWaiting ? await look(tx, limit - mine.length) : [];
      // Every delivery has its notification: deleting one deletes its deliveries (a foreign key's cascade).
      const notifications = await notificationsOf(tx, [...mine, ...rows]);
      const payload = (row: DeliveryRow) => payloadOf(row.payload, notifications.get(row.notification_id)!, row.rule_id);
      const sendable: DeliveryRow[] = [];
      for (const row of rows) {
        const destination = JSON.parse(row.destination) as RoutedDestination;
        if (row.state === 'held') {
          const rule = row.rule_id ? await findRule(ctx, row.rule_id) : undefined;
          const quiet = (rule?.quiet_hours ?? this.settings.quiet_hours) || undefined;
          if (isQuiet(quiet, new Date(now))) {
            const until = quietUntil(quiet, new Date(now)).toISOString();
            await tx.updateTable('notification_deliveries').set({ next_attempt_at: until, last_error: `held for quiet hours until ${until}`, updated_at: now }).where(keyed([row])).execute();
            continue;
          }
        }
        if (destination.type === 'inbox') {
          const { notification, text } = payload(row);
          await deliverToInbox(ctx, destination.agents, notification, text);
          await tx.updateTable('notification_deliveries').set({ state: 'sent', attempts: row.attempts + 1, last_error: '', sent_at: now, updated_at: now }).where(keyed([row])).execute();
          continue;
        }
        sendable.push(row);
      }
      if (sendable.length) await tx.updateTable('notification_deliveries').set(lease).where(keyed(sendable)).execute();
      return { deliveries: [...mine, ...sendable].map((row) => toDue(row, payload(row))), scanned: fresh.events + rows.length };
    });
    // Only once committed: a claim rolled back leaves its deliveries fresh, to be read again.
    this.seen = Math.max(this.seen, fresh.through);
    return claimed;
  }

  /** Records how attempts went, for the deliveries `holder` still holds. */
  async complete(holder: string, results: { delivery: DueDelivery; outcome: AttemptOutcome }[]): Promise<void> {
    if (results.length === 0) return;
    const now = this.clock().toISOString();
    const { delivery: policy } = this.settings;
    const sent = results.filter((r) => r.outcome.ok).map((r) => r.delivery);
    await this.store.write(async (tx) => {
      const ctx = this.context(tx, now);
      // What went through, in one statement: most of a busy sender's records.
      if (sent.length) {
        await tx
          .updateTable('notification_deliveries')
          .set((eb) => ({ attempts: eb('attempts', '+', 1), lease_holder: '', lease_expires_at: '', updated_at: now, state: 'sent', last_error: '', sent_at: now }))
          .where(keyed(sent))
          .where('lease_holder', '=', holder)
          .where('state', 'in', ['pending', 'held'])
          .execute();
      }
      for (const { delivery, outcome } of results) {
        if (outcome.ok) continue;
        const attempts = delivery.attempts + 1;
        const mine = () => tx.updateTable('notification_deliveries').where(keyed([delivery])).where('lease_holder', '=', holder).where('state', 'in', ['pending', 'held']);
        const released = { attempts, lease_holder: '', lease_expires_at: '', updated_at: now };
        if (outcome.final || attempts >= policy.max_attempts) {
          const error = outcome.final ? outcome.error : `${outcome.error} (gave up after ${attempts} attempts)`;
          const result = await mine().set({ ...released, state: 'failed', last_error: error }).executeTakeFirst();
          if (Number(result.numUpdatedRows) > 0) {
            ctx.emit({
              team_id: delivery.team_id,
              type: 'notification_failed',
              message: `a ${delivery.payload.notification.type} notification could not be delivered to a ${delivery.destination.type}: ${error}`,
              related_id: delivery.notification_id,
              data: { delivery_id: delivery.id, rule_id: delivery.rule_id, destination: delivery.destination.type, attempts },
            });
          }
          continue;
        }
        const wait = outcome.retryAfterMs !== undefined ? Math.min(outcome.retryAfterMs, policy.max_backoff_seconds * 1000) : backoffMs(attempts, policy);
        const next = new Date(Date.parse(now) + wait).toISOString();
        await mine().set({ ...released, state: 'pending', last_error: `${outcome.error}; next attempt at ${next}`, next_attempt_at: next }).execute();
      }
    });
  }

  /**
   * When the next delivery that nobody holds falls due, or undefined when none waits. Deliveries a sender holds are
   * not counted: their sender records them, or, if it died, the next idle look finds them once its lease ran out.
   */
  async nextDueAt(): Promise<string | undefined> {
    const now = this.clock().toISOString();
    const first = (state: string) =>
      this.store.db
        .selectFrom('notification_deliveries')
        .select('next_attempt_at')
        .where(DUE_DELIVERIES)
        .where('state', '=', state)
        .where('lease_expires_at', '<=', now)
        .orderBy('next_attempt_at')
        .limit(1)
        .executeTakeFirst();
    const times = (await Promise.all([first('pending'), first('held')])).filter((r) => r !== undefined).map((r) => r.next_attempt_at);
    return times.sort()[0];
  }
}

/** The deliveries of each notification, as notify_list shows them: where, in which state, after how many attempts. */
export async function deliveriesOf(ctx: Ctx, notificationIds: string[]): Promise<Map<string, Record<string, unknown>[]>> {
  const byNotification = new Map<string, Record<string, unknown>[]>();
  if (notificationIds.length === 0) return byNotification;
  const rows = await ctx.db
    .selectFrom('notification_deliveries')
    .select(['id', 'notification_id', 'rule_id', 'destination', 'state', 'attempts', 'last_error', 'next_attempt_at', 'sent_at'])
    .where('notification_id', 'in', notificationIds)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  for (const { destination, notification_id, ...row } of rows) {
    const list = byNotification.get(notification_id) ?? [];
    list.push({ ...row, destination: redactDestination(JSON.parse(destination) as Record<string, unknown>) });
    byNotification.set(notification_id, list);
  }
  return byNotification;
}

/**
 * The deliveries of notify_list's items (`deliveries`: id, rule_id, destination, state pending|sent|failed|held|
 * dropped, attempts, last_error, next_attempt_at, sent_at), read in one query: at most 20 per notification, the
 * rest counted in `deliveries_more`.
 */
export async function deliveryViews(ctx: Ctx, notificationIds: string[]): Promise<(id: string) => { deliveries: Record<string, unknown>[]; deliveries_more?: number }> {
  const byNotification = await deliveriesOf(ctx, notificationIds);
  return (id) => {
    const all = byNotification.get(id) ?? [];
    return { deliveries: all.slice(0, 20), ...(all.length > 20 ? { deliveries_more: all.length - 20 } : {}) };
  };
}

const retry = defineAction({
  tool: 'team_comm',
  action: 'notify_retry',
  summary: 'resend failed deliveries (delivery_id or notification_id)',
  input: z.strictObject({
    team_id: teamRef,
    delivery_id: z.string().trim().min(1).max(LIMITS.agentId).optional(),
    notification_id: z.string().trim().min(1).max(LIMITS.agentId).optional(),
  }),
  write: true,
  async run(ctx, input) {
    assertLead(ctx, 'retry notification deliveries');
    const team = await ctx.team(input.team_id);
    if (!input.delivery_id === !input.notification_id) throw validation('delivery_id', 'give exactly one of delivery_id or notification_id');
    const rows = await ctx.db
      .selectFrom('notification_deliveries')
      .select(['id', 'state', 'notification_id'])
      .where('team_id', '=', team.id)
      // A delivery id made before migration 017 does not name its notification: found the slow way, by the id alone.
      .$if(Boolean(input.delivery_id), (q) => {
        const notification = notificationOfDelivery(input.delivery_id!);
        return (notification ? q.where('notification_id', '=', notification) : q).where('id', '=', input.delivery_id!);
      })
      .$if(Boolean(input.notification_id), (q) => q.where('notification_id', '=', input.notification_id!))
      .execute();
    if (rows.length === 0) throw notFound(input.delivery_id ? 'delivery' : 'notification', (input.delivery_id ?? input.notification_id)!, "see deliveries with team_comm(action='notify_list')");
    const failed = rows.filter((r) => r.state === 'failed');
    if (failed.length === 0) throw validation(input.delivery_id ? 'delivery_id' : 'notification_id', `has no failed delivery (states: ${[...new Set(rows.map((r) => r.state))].join(', ')}); only failed deliveries are retried`);
    await ctx.db
      .updateTable('notification_deliveries')
      .set({ state: 'pending', attempts: 0, next_attempt_at: ctx.now, lease_holder: '', lease_expires_at: '', updated_at: ctx.now })
      .where(keyed(failed))
      .execute();
    const retried = failed.map((r) => r.id);
    ctx.emit({ team_id: team.id, type: 'notification_retried', message: `${ctx.actorId} retried ${retried.length} failed deliver${retried.length === 1 ? 'y' : 'ies'}`, related_id: rows[0]!.notification_id, data: { deliveries: retried } });
    return { team_id: team.id, retried, count: retried.length };
  },
});

export const outboxActions = [retry];
