import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/outbox/signing.js';
import { spawnSession, tempDbPath } from '../helpers.js';
import type { McpSession } from '../helpers.js';
import { Receiver } from './receiver.js';

const SECRET = 'hook-secret-from-the-environment';
const env = { HOOK_SECRET: SECRET };

/** A database whose team-table.yaml retries fast, and a rule sending failures to the receiver, signed. */
async function table(receiver: Receiver) {
  const db = tempDbPath();
  writeFileSync(join(dirname(db), 'team-table.yaml'), 'notifications:\n  delivery:\n    timeout_seconds: 2\n    backoff_seconds: 0.1\n    max_backoff_seconds: 0.5\n    max_attempts: 1000\n');
  const owner = await spawnSession(db, { env, persistent: true });
  await owner.call('team_manage', { action: 'create', name: 'Engineering' });
  await owner.call('team_manage', { action: 'notify_rule_create', name: 'failures to the hook', events: ['task_failed'], destinations: [{ type: 'webhook', url: `${receiver.url}/hook`, secret_env: 'HOOK_SECRET' }] });
  return { db, owner };
}

const deliveryIds = (receiver: Receiver) => receiver.delivered.map((r) => JSON.parse(r.body).delivery_id as string);
const count = (receiver: Receiver, status: number) => receiver.requests.filter((r) => r.status === status).length;

function expectSigned(receiver: Receiver) {
  for (const request of receiver.delivered) {
    // The clock check is the receiver's own: these requests are seconds old.
    expect(verifySignature(SECRET, request.body, request.headers as Record<string, string>)).toBe(true);
  }
}

async function allSent(session: McpSession, expected: number) {
  const { notifications } = await session.call('team_comm', { action: 'notify_list', limit: 100 });
  const deliveries = notifications.flatMap((n: any) => n.deliveries);
  expect(deliveries).toHaveLength(expected);
  return deliveries as any[];
}

describe('delivery at least once, through restarts (spawned servers, a real receiver)', () => {
  it('gets every delivery through a receiver that is down, then errs, then is busy, with the server restarted and killed in between', async () => {
    const receiver = await Receiver.start();
    receiver.mode = 'down';
    const { db, owner } = await table(receiver);
    const N = 5;
    for (let i = 0; i < N; i++) await owner.call('team_comm', { action: 'notify', type: 'task_failed', message: `failure ${i}`, priority: 2 });
    await receiver.until(() => count(receiver, 0) >= N, 'an attempt on each delivery while the receiver is down');

    // A clean restart: the first server gives its lead up as it exits.
    await owner.close();
    receiver.mode = 'error';
    const second = await spawnSession(db, { env, persistent: true });
    await second.call('team_manage', { action: 'list' });
    await receiver.until(() => count(receiver, 500) >= N, 'attempts answered 500');

    // A crash: kill -9. Its leases run out, and the next server takes the deliveries over.
    process.kill((second.client.transport as StdioClientTransport).pid!, 'SIGKILL');
    await second.close().catch(() => {});
    receiver.mode = 'busy';
    const third = await spawnSession(db, { env, persistent: true });
    await third.call('team_manage', { action: 'list' });
    await receiver.until(() => count(receiver, 429) >= N, 'attempts answered 429', 60_000);
    receiver.mode = 'up';
    await receiver.until(() => new Set(deliveryIds(receiver)).size === N, 'every delivery to arrive', 60_000);

    expectSigned(receiver);
    for (const id of deliveryIds(receiver)) {
      const failures = receiver.requests.filter((r) => r.status !== 200 && JSON.parse(r.body).delivery_id === id);
      expect(failures.length, id).toBeGreaterThanOrEqual(1);
    }
    expect(receiver.delivered.map((r) => JSON.parse(r.body).notification.message).sort()).toEqual(Array.from({ length: N }, (_, i) => `failure ${i}`));
    for (;;) {
      const deliveries = await allSent(third, N);
      if (deliveries.every((d) => d.state === 'sent')) {
        // Attempts of the killed server that it never recorded are not counted; the receiver saw them.
        for (const d of deliveries) expect(d.attempts).toBeGreaterThanOrEqual(2);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await third.close();
  });

  it('sends each delivery once with two live servers on one database, across a hand-over of the lead', async () => {
    const receiver = await Receiver.start();
    const { db, owner } = await table(receiver);
    const other = await spawnSession(db, { env, persistent: true });
    const PER_SERVER = 30;
    const burst = (session: McpSession, from: number) =>
      Promise.all(Array.from({ length: PER_SERVER }, (_, i) => session.call('team_comm', { action: 'notify', type: 'task_failed', message: `n${from + i}` })));
    await Promise.all([burst(owner, 0), burst(other, PER_SERVER)]);
    await receiver.until(() => receiver.delivered.length >= PER_SERVER, 'the first deliveries');
    // The first server leaves while deliveries are under way; it records what it sent before giving up the lead.
    await owner.close();
    await burst(other, 2 * PER_SERVER);
    const total = 3 * PER_SERVER;
    await receiver.until(() => receiver.delivered.length >= total, 'every delivery', 60_000);
    for (;;) {
      const deliveries = await allSent(other, total);
      if (deliveries.every((d) => d.state === 'sent')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const ids = deliveryIds(receiver);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    expect(receiver.requests.length).toBe(total);
    expectSigned(receiver);
    await other.close();
  });
});
