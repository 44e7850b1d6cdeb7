import type { Command } from 'commander';
import type { Cli } from './common.js';
import { act, common, integer } from './common.js';
import { clip } from './style.js';
import type { Style } from './style.js';

interface Event {
  seq: number;
  team_id: string;
  type: string;
  agent_id: string;
  message: string;
  related_id: string;
  data: Record<string, unknown> | string;
  created_at: string;
}

const eventLine = (style: Style, e: Event) =>
  `${style.dim(`${e.created_at.slice(0, 10)} ${e.created_at.slice(11, 19)}`)} ${style.dim(`#${e.seq}`)} ${style.cyan(e.type.padEnd(18))} ${style.bold(e.agent_id)}  ${clip(e.message, 100)}`;

/** The audit log from `after` on, as the acting identity may read it. */
async function auditPage(cli: Cli, after: number, o: Record<string, any>, limit: number) {
  return cli.call<{ events: Event[]; next_after_seq: number | null }>('team_memory', { action: 'audit', after_seq: after, agent_id: o.by, type: o.type, since: o.since, limit });
}

/** `team-table standup`, `log` (the audit log) and `tail [-f]` (live events). */
export function registerActivity(program: Command): void {
  common(program.command('standup').description('the daily standup: done today, in progress, blocked, needs review'))
    .option('--date <day>', 'another day (YYYY-MM-DD)')
    .action(
      act(async (cli) => {
        const answer = await cli.call<{ text: string }>('team_memory', { action: 'standup', date: (cli.options as any).date });
        cli.print(answer, () => answer.text);
      }),
    );

  const filters = (command: Command) =>
    command.option('--by <agent_id>', 'events by this actor').option('--type <type>', 'events of this type (task_created, message_sent, …)').option('--since <date>', 'at or after (ISO-8601)');

  filters(common(program.command('log').description('the audit log in order (every change, who made it, when)')))
    .option('--after <seq>', 'events after this sequence number (the next page)', integer('after'))
    .option('--limit <n>', 'at most this many (default 50)', integer('limit'))
    .action(
      act(async (cli) => {
        const o = cli.options as Record<string, any>;
        const answer = await auditPage(cli, o.after ?? 0, o, o.limit ?? 50);
        cli.print(answer, () => {
          if (!answer.events.length) return 'No events.';
          const more = answer.next_after_seq !== null ? cli.style.dim(`\n… more: --after ${answer.next_after_seq}`) : '';
          return answer.events.map((e) => eventLine(cli.style, e)).join('\n') + more;
        });
      }),
    );

  filters(common(program.command('tail').description('the latest events; with -f, follow new ones as they happen (Ctrl-C stops)')))
    .option('-n, --lines <n>', 'how many of the latest to show first (default 10)', integer('lines'))
    .option('-f, --follow', 'keep printing new events')
    .action(
      act(async (cli) => {
        const o = cli.options as Record<string, any>;
        const print = (e: Event) => process.stdout.write(`${cli.json ? JSON.stringify(e) : eventLine(cli.style, e)}\n`);
        // The last n: read the log's tail in widening windows until n events pass the filters (or the log ends).
        const n = o.lines ?? 10;
        const [{ mayView }, viewer] = await Promise.all([import('../core/audience.js'), cli.core.resolveActor(cli.actor)]);
        const head = await cli.core.feed.head();
        let latest: Event[] = [];
        for (let window = n; n > 0; window *= 4) {
          const from = Math.max(0, head - window);
          latest = [];
          for (let after = from; ; ) {
            const page = await auditPage(cli, after, o, 500);
            // What the agent's stream would show it, as below: no one else's direct mail.
            latest.push(...page.events.filter((e) => e.seq <= head && mayView({ ...e, data: JSON.stringify(e.data) }, viewer)));
            if (page.next_after_seq === null || page.next_after_seq >= head) break;
            after = page.next_after_seq;
          }
          if (latest.length >= n || from === 0) break;
        }
        latest.slice(-n).forEach(print);
        if (!o.follow) return;
        await follow(cli, head, o, print, (e) => mayView(e, viewer));
      }),
    );
}

/** Prints the events committed after `head` as they come, until SIGINT or SIGTERM. */
async function follow(cli: Cli, head: number, o: Record<string, any>, print: (e: Event) => void, visible: (e: Event & { data: string }) => boolean): Promise<void> {
  // The same team a call would use: the named one, the agent's own, or the only one; the owner without --team sees all.
  const teamId = cli.options.team !== undefined || cli.actor.kind === 'agent' ? ((await cli.call('team_manage', { action: 'get' })).id as string) : undefined;
  const since = o.since as string | undefined;
  const shown = (e: Event & { data: string }) =>
    (teamId === undefined || e.team_id === teamId) && visible(e) && (!o.by || e.agent_id === o.by) && (!o.type || e.type === o.type) && (!since || e.created_at >= since);
  await new Promise<void>((resolve) => {
    const subscription = cli.core.feed.subscribe(head, (events) => {
      for (const event of events) if (shown(event)) print({ ...event, data: JSON.parse(event.data) as Record<string, unknown> });
    });
    // The feed's poll timer does not hold the process open (servers decide their own lifetime): this does.
    const alive = setInterval(() => {}, 1 << 30);
    const stop = () => {
      clearInterval(alive);
      subscription.close();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
