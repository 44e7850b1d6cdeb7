import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * Hardening (issue 7): mail handed out until acknowledged, a read state per reader of team-wide notifications,
 * idempotency keys of creates, and leases in seconds.
 */
export const hardening: Migration = {
  version: 6,
  name: 'hardening',
  async up(db: Kysely<any>) {
    const text = async (table: string, column: string) =>
      db.schema.alterTable(table).addColumn(column, 'text', (c) => c.notNull().defaultTo('')).execute();

    // A mailbox copy handed out by mention_check and not acknowledged yet: which hand-out (the ack cursor names
    // it), to which session, when. Acknowledging marks it delivered and read; a copy whose session never
    // acknowledged it is handed out again.
    await text('team_pending_messages', 'handout_id');
    await text('team_pending_messages', 'handout_session');
    await text('team_pending_messages', 'handed_out_at');

    // Who has read which notification: a team-wide one is read by each reader on its own.
    await db.schema
      .createTable('team_notification_reads')
      .addColumn('notification_id', 'text', (c) => c.notNull().references('team_notifications.id').onDelete('cascade'))
      .addColumn('reader', 'text', (c) => c.notNull())
      .addColumn('read_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('team_notification_reads_pk', ['notification_id', 'reader'])
      .execute();
    // The read state so far: an agent's own notifications were read by it; team-wide ones by the team's owner.
    await sql`insert into team_notification_reads (notification_id, reader, read_at)
      select id, 'agent:' || to_agent, read_at from team_notifications where read_at != '' and to_agent != ''`.execute(db);
    await sql`insert into team_notification_reads (notification_id, reader, read_at)
      select n.id, 'owner:' || t.owner_jid, n.read_at from team_notifications n join teams t on t.id = n.team_id
      where n.read_at != '' and n.to_agent = ''`.execute(db);

    // The first answer of each create made with an idempotency key, per actor; a retry gets it back.
    await db.schema
      .createTable('team_idempotency_keys')
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('tool', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('request_hash', 'text', (c) => c.notNull())
      .addColumn('result', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('team_idempotency_keys_pk', ['actor', 'key'])
      .execute();
    await db.schema.createIndex('idempotency_keys_by_age').on('team_idempotency_keys').columns(['created_at']).execute();

    // Leases in seconds; lease_minutes stays the same length rounded up, for reading.
    await db.schema.alterTable('teams').addColumn('lease_seconds', 'integer', (c) => c.notNull().defaultTo(900)).execute();
    await sql`update teams set lease_seconds = lease_minutes * 60`.execute(db);
  },
};
