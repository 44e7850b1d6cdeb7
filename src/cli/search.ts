import type { Command } from 'commander';
import type { SearchHit } from '../core/search.js';
import { act, common, integer, list } from './common.js';
import { clip, highlighted, table, when } from './style.js';

/** `team-table search`: full-text search of messages, comments, tasks, documents and facts. */
export function registerSearch(program: Command): void {
  common(program.command('search').description('find messages, comments, tasks, documents and facts: words all match, "a phrase", prefix*, -exclude').argument('<query...>'))
    .option('--kind <kinds>', 'message, comment, task, document, fact (comma-separated, repeatable)', list)
    .option('--author <agent_id>', 'written by this agent (or person)')
    .option('--task <task_id>', 'about this task')
    .option('--since <date>', 'written at or after (ISO-8601)')
    .option('--until <date>', 'written before (ISO-8601)')
    .option('--limit <n>', 'at most this many (default 20)', integer('limit'))
    .option('--cursor <cursor>', 'the next page (the next_cursor of the previous one)')
    .action(
      act(async (cli, words: string[]) => {
        const o = cli.options as Record<string, any>;
        const answer = await cli.call<{ hits: SearchHit[]; next_cursor: string | null }>('team_memory', {
          action: 'search',
          query: words.join(' '),
          kinds: o.kind,
          agent_id: o.author,
          task_id: o.task,
          since: o.since,
          until: o.until,
          limit: o.limit,
          cursor: o.cursor,
        });
        cli.print(answer, () => {
          if (!answer.hits.length) return 'Nothing found.';
          const rows = answer.hits.map((h) => {
            const about = h.title ? `${cli.style.bold(clip(h.title, 40))} ` : '';
            const to = h.to_agent ? ` → ${h.to_agent}` : '';
            return [h.kind, cli.style.bold(h.id), `${h.author}${to}`, when(h.at), about + highlighted(cli.style, h.snippet.replace(/\s/g, ' '), h.highlights)];
          });
          const more = answer.next_cursor ? cli.style.dim(`\n… more: --cursor ${answer.next_cursor}`) : '';
          return table(cli.style, ['KIND', 'ID', 'BY', 'AT', 'MATCH'], rows) + more;
        });
      }),
    );
}
