import { describe, expect, it } from 'vitest';
import { spawnSession, tempDbPath } from '../helpers.js';

/** At-least-once mail across real server processes: each stdio process is one session. */
describe('mail over MCP survives a killed server', () => {
  it('hands mail a killed session never acknowledged to the agent\u2019s next server process, and only once after that', async () => {
    const db = tempDbPath();
    const owner = await spawnSession(db);
    await owner.call('team_manage', { action: 'create', name: 'Mail' });
    await owner.call('team_agent', { action: 'create', name: 'Jarvis', level: 'lead' });
    await owner.call('team_agent', { action: 'create', name: 'Loki' });
    const jarvis = await spawnSession(db, { agent: 'jarvis' });
    await jarvis.call('team_comm', { action: 'send_message', to_agent: 'loki', content: 'the deploy key is in the vault' });

    const first = await spawnSession(db, { agent: 'loki' });
    expect((await first.call('team_comm', { action: 'mention_check' })).messages.map((m: any) => m.content)).toEqual(['the deploy key is in the vault']);
    process.kill((first.client.transport as unknown as { pid: number }).pid, 'SIGKILL');

    const second = await spawnSession(db, { agent: 'loki' });
    const again = await second.call('team_comm', { action: 'mention_check' });
    expect(again.messages).toMatchObject([{ content: 'the deploy key is in the vault', redelivered: true }]);
    expect((await second.call('team_comm', { action: 'inbox' })).unread_count).toBe(1);
    expect(await second.call('team_comm', { action: 'mention_check', ack: again.ack_cursor })).toMatchObject({ acknowledged: 1, messages: [] });
    expect((await second.call('team_comm', { action: 'inbox' })).unread_count).toBe(0);
    const third = await spawnSession(db, { agent: 'loki' });
    expect((await third.call('team_comm', { action: 'mention_check' })).messages).toEqual([]);
  });
});
