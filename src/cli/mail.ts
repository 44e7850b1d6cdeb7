import type { Command } from 'commander';
import { TeamTableError } from '../core/errors.js';
import { act, common, integer } from './common.js';
import { clip, table, when } from './style.js';

interface MailCopy {
  id: string;
  message_id: string;
  from_agent: string;
  from_user: string;
  content: string;
  reason: string;
  created_at: string;
  read: boolean;
  task_id: string;
}

/** `team-table send` and `team-table inbox`. */
export function registerMail(program: Command): void {
  common(program.command('send').description('send a direct message to an agent (or --broadcast to the whole team)').argument('<words...>', 'the recipient, then the message'))
    .option('--broadcast', 'to every agent of the team (every word is the message)')
    .option('--task <task_id>', 'link the message to a task')
    .action(
      act(async (cli, words: string[]) => {
        const o = cli.options as Record<string, any>;
        const [to, ...rest] = words;
        if (!o.broadcast && rest.length === 0) throw new TeamTableError('VALIDATION', 'content: is required: team-table send <agent_id> <message> (or --broadcast <message>)', { field: 'content' });
        const answer = o.broadcast
          ? await cli.call('team_comm', { action: 'broadcast', content: words.join(' ') })
          : await cli.call('team_comm', { action: 'send_message', to_agent: to, content: rest.join(' '), task_id: o.task });
        cli.print(answer, () => `Sent to ${(answer.recipients as string[]).join(', ') || 'nobody'}.`);
      }),
    );

  common(program.command('inbox').description("an agent's mailbox, newest first (the acting agent's by default)").argument('[agent_id]'))
    .option('--unread', 'unread only')
    .option('--archived', 'include archived mail')
    .option('--from <sender>', 'from this agent or person')
    .option('--limit <n>', 'at most this many (default 50)', integer('limit'))
    .option('--mark-read', 'mark what is shown as read')
    .action(
      act(async (cli, agentId: string | undefined) => {
        const o = cli.options as Record<string, any>;
        const answer = await cli.call<{ agent_id: string; messages: MailCopy[]; unread_count: number }>('team_comm', {
          action: 'inbox',
          agent_id: agentId,
          unread_only: o.unread,
          include_archived: o.archived,
          sender: o.from,
          limit: o.limit,
        });
        if (o.markRead && answer.messages.some((m) => !m.read)) {
          await cli.call('team_comm', { action: 'mark_read', agent_id: answer.agent_id, message_ids: answer.messages.filter((m) => !m.read).map((m) => m.id) });
        }
        cli.print(answer, () => {
          const head = `${cli.style.bold(answer.agent_id)}: ${answer.unread_count} unread`;
          if (!answer.messages.length) return `${head}. No mail.`;
          const rows = answer.messages.map((m) => {
            const text = clip(m.content, 70);
            return [m.read ? ' ' : cli.style.yellow('●'), when(m.created_at), m.from_agent || m.from_user, m.reason, m.read ? text : cli.style.bold(text)];
          });
          return `${head}\n${table(cli.style, ['', 'AT', 'FROM', 'WHY', 'MESSAGE'], rows)}`;
        });
      }),
    );
}
