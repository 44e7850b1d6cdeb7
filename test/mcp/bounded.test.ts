import { describe, expect, it } from 'vitest';
import { spawnSession, tempDbPath } from '../helpers.js';

/**
 * What used to be unreadable through a real client: answers of tens of megabytes, over the SDK client's read
 * limit. Every answer now fits (the core's 512 KiB budget, sent twice by MCP as text and structured content).
 */
describe('no answer is too big to read over MCP', () => {
  it('reads a task after 150 comments of 20,000 CJK characters, and hands out the 150 mentions in pages', async () => {
    const db = tempDbPath();
    const owner = await spawnSession(db);
    await owner.call('team_manage', { action: 'create', name: 'Talk' });
    await owner.call('team_agent', { action: 'create', name: 'Jarvis', level: 'lead' });
    await owner.call('team_agent', { action: 'create', name: 'Loki' });
    const jarvis = await spawnSession(db, { agent: 'jarvis' });
    const task = await jarvis.call('team_task', { action: 'create', title: 'Much discussed', assignees: ['loki'] });
    const body = (i: number) => `${i} @loki ${'討'.repeat(19_980)}`;
    for (let i = 0; i < 150; i++) await jarvis.call('team_comm', { action: 'comment', task_id: task.id, content: body(i) });

    const loki = await spawnSession(db, { agent: 'loki' });
    const got = await loki.call('team_task', { action: 'get', task_id: task.id });
    expect(got).toMatchObject({ id: task.id, truncated: true });
    expect(got.feed.at(-1).text).toMatch(/^jarvis: 149 @loki 討+… \[cut: 2000 of/);
    expect((await loki.call('team_task', { action: 'list', limit: 500 })).tasks).toHaveLength(1);

    // 150 mentions waiting: each page fits, nothing is lost or doubled
    const seen: string[] = [];
    let ack: string | undefined;
    for (;;) {
      const mail = await loki.call('team_comm', { action: 'mention_check', ...(ack ? { ack } : {}) });
      seen.push(...mail.messages.map((m: any) => m.content.split(' ')[0]));
      if (!mail.truncated) break;
      ack = mail.next_cursor;
    }
    expect(seen).toEqual(Array.from({ length: 150 }, (_, i) => String(i)));
  });
});
