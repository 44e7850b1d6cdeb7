import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { EventRow } from '../../src/store/schema.js';
import { CLI, OWNER, agent, openCore, seedTeam } from '../helpers.js';

const run = promisify(execFile);

/** Collects what a subscription receives; `until` waits for a condition on it (a real wait, not a timed assert). */
function collector() {
  const received: EventRow[] = [];
  const until = async (done: (events: EventRow[]) => boolean, what: string) => {
    for (let waited = 0; !done(received); waited += 10) {
      if (waited > 20_000) throw new Error(`timed out waiting for ${what}; received seqs ${received.map((e) => e.seq).join(',')}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { received, listener: (events: readonly EventRow[]) => received.push(...events), until };
}

async function allSeqs(t: Awaited<ReturnType<typeof openCore>>): Promise<number[]> {
  return (await t.store.db.selectFrom('team_events').select('seq').orderBy('seq').execute()).map((e) => e.seq);
}

describe('the event feed', () => {
  it('hands a subscriber what the log holds after its sequence number, then each new commit, once and in order', async () => {
    const t = await openCore();
    await seedTeam(t);
    const before = await allSeqs(t);
    const from = before[2]!;
    const { received, listener, until } = collector();
    const subscription = t.core.feed.subscribe(from, listener);
    await until((r) => r.length === before.length - 3, 'the catch-up');
    await t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'Pushed' });
    const after = await allSeqs(t);
    await until((r) => r.at(-1)?.seq === after.at(-1), 'the new commit');
    expect(received.map((e) => e.seq)).toEqual(after.filter((seq) => seq > from));
    expect(received.some((e) => e.type === 'task_created')).toBe(true);
    subscription.close();
    await t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'Not seen' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received.at(-1)!.seq).toBe(after.at(-1));
  });

  it('misses nothing and repeats nothing when it subscribes from the start during a write storm', async () => {
    const t = await openCore();
    await seedTeam(t);
    const writes = (async () => {
      for (let i = 0; i < 150; i++) await t.call(agent('loki'), 'team_task', { action: 'create', title: `storm ${i}` });
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { received, listener, until } = collector();
    t.core.feed.subscribe(0, listener);
    await writes;
    const seqs = await allSeqs(t);
    await until((r) => r.length >= seqs.length, 'every event');
    expect(received.map((e) => e.seq)).toEqual(seqs);
  });

  it("delivers another process's commits on the same file", async () => {
    const t = await openCore();
    await seedTeam(t);
    const head = await t.core.feed.head();
    const { received, listener, until } = collector();
    t.core.feed.subscribe(head, listener);
    await run(process.execPath, [CLI, 'call', 'team_comm', JSON.stringify({ action: 'send_message', to_agent: 'loki', content: 'from afar' }), '--db', t.path, '--agent', 'jarvis']);
    await until((r) => r.some((e) => e.type === 'message_sent'), "the other process's message");
    expect(received.every((e) => e.seq > head)).toBe(true);
    expect(received.find((e) => e.type === 'message_sent')!.agent_id).toBe('jarvis');
  });

  it('keeps several subscribers at their own places', async () => {
    const t = await openCore();
    await seedTeam(t);
    const head = await t.core.feed.head();
    const early = collector();
    const late = collector();
    t.core.feed.subscribe(0, early.listener);
    t.core.feed.subscribe(head, late.listener);
    await t.call(OWNER, 'team_task', { action: 'create', title: 'Both see this' });
    const seqs = await allSeqs(t);
    await early.until((r) => r.length === seqs.length, 'the early subscriber');
    await late.until((r) => r.length === seqs.length - head, 'the late subscriber');
    expect(early.received.map((e) => e.seq)).toEqual(seqs);
    expect(late.received.map((e) => e.seq)).toEqual(seqs.filter((s) => s > head));
  });
});
