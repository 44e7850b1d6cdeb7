import { describe, expect, it } from 'vitest';
import { audienceOf, concerns, mayView } from '../../src/core/audience.js';
import type { Actor } from '../../src/core/context.js';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

describe('the audience of an event', () => {
  it('tells whom an event concerns and keeps private ones to them, their author and the leads', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Sam', level: 'mid' });
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Docs', assignees: ['loki'] });
    const head = await t.core.feed.head();
    await t.call(agent('sam'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'psst, @jarvis is busy' });
    await t.call(agent('sam'), 'team_comm', { action: 'comment', task_id: task.id, content: 'looks good, @jarvis' });
    await t.call(agent('sam'), 'team_comm', { action: 'notify', type: 'task_progress', message: 'half way', to_agent: 'loki' });
    await t.call(agent('sam'), 'team_comm', { action: 'notify', type: 'task_progress', message: 'for all' });
    const events = await t.store.db.selectFrom('team_events').selectAll().where('seq', '>', head).orderBy('seq').execute();
    const byType = (type: string, nth = 0) => events.filter((e) => e.type === type)[nth]!;
    const viewer = (actor: Actor) => t.core.resolveActor(actor);
    const [owner, jarvis, loki, sam] = await Promise.all([viewer(OWNER), viewer(agent('jarvis')), viewer(agent('loki')), viewer(agent('sam'))]);

    const direct = byType('message_sent', 0);
    // a direct message reaches its addressee alone: the @jarvis in it is text
    expect(audienceOf(direct)).toEqual({ concerns: ['loki'], visibility: 'private' });
    const comment = byType('message_sent', 1);
    expect(audienceOf(comment).visibility).toBe('team');
    expect(concerns(comment, 'loki')).toBe(true); // subscribed to the task's thread as its assignee
    const personal = byType('notification_sent', 0);
    const teamWide = byType('notification_sent', 1);
    expect(audienceOf(personal)).toEqual({ concerns: ['loki'], visibility: 'private' });
    expect(audienceOf(teamWide)).toEqual({ concerns: [], visibility: 'team' });

    const mention = byType('mention');
    // A private event: its addressee, its author, the owner and the leads — nobody else.
    for (const private_ of [personal, mention]) {
      expect(mayView(private_, owner)).toBe(true);
      expect(mayView(private_, jarvis)).toBe(true);
      expect(mayView(private_, sam)).toBe(true);
    }
    expect(mayView(personal, loki)).toBe(true);
    expect(mayView(mention, loki)).toBe(false);
    expect(mayView(teamWide, loki)).toBe(true);
  });

  it('keeps another team out', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Elsewhere' });
    await t.call(OWNER, 'team_agent', { action: 'create', team_id: 'elsewhere', name: 'Outsider', level: 'lead' });
    await t.call(OWNER, 'team_task', { action: 'create', team_id: 'engineering', title: 'Ours' });
    const created = await t.store.db.selectFrom('team_events').selectAll().where('type', '=', 'task_created').executeTakeFirstOrThrow();
    expect(mayView(created, await t.core.resolveActor(agent('outsider')))).toBe(false);
    expect(mayView(created, await t.core.resolveActor(agent('loki')))).toBe(true);
  });
});
