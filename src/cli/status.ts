import type { Command } from 'commander';
import type { Cli } from './common.js';
import { act, common } from './common.js';
import { clip, table, when } from './style.js';
import { statusOf } from './task.js';

const STATUSES = ['inbox', 'assigned', 'in_progress', 'review', 'blocked', 'done', 'cancelled'] as const;
/** A status with more tasks than this shows as "500+": counting is a list call, and lists are bounded. */
const COUNT_LIMIT = 500;

interface Task {
  id: string;
  title: string;
  status: string;
  priority: number;
  assignees: string[];
  claimed_by: string;
  lease_expires_at: string;
  blocked_reason: string;
  reviewer: string;
}

/** One team at a glance: its agents, how many tasks in each status, what is blocked, in review and in progress. */
async function teamStatus(cli: Cli, teamId: string) {
  const team = await cli.call<{ id: string; name: string; description: string }>('team_manage', { action: 'get', team_id: teamId });
  const { agents } = await cli.call<{ agents: Record<string, any>[] }>('team_agent', { action: 'list', team_id: team.id });
  const lists = await Promise.all(STATUSES.map((status) => cli.call<{ tasks: Task[]; truncated: boolean }>('team_task', { action: 'list', team_id: team.id, status, limit: COUNT_LIMIT })));
  const tasks = Object.fromEntries(STATUSES.map((status, i) => [status, lists[i]!.tasks]));
  const counts = Object.fromEntries(STATUSES.map((status, i) => [status, lists[i]!.truncated ? `${COUNT_LIMIT}+` : lists[i]!.tasks.length]));
  return {
    team: { id: team.id, name: team.name, description: team.description },
    agents: agents.map((a) => ({ id: a.id, name: a.name, level: a.level, role: a.role, status: a.status, current_task_id: a.current_task_id, last_active_at: a.last_active_at })),
    counts,
    in_progress: tasks.in_progress!,
    review: tasks.review!,
    blocked: tasks.blocked!,
  };
}

type TeamStatus = Awaited<ReturnType<typeof teamStatus>>;

function render(cli: Cli, s: TeamStatus): string {
  const { style } = cli;
  const out = [`${style.bold(s.team.name)} ${style.dim(`(${s.team.id})`)}${s.team.description ? ` — ${s.team.description}` : ''}`];
  out.push(`Tasks: ${STATUSES.map((st) => `${statusOf(style, st)} ${s.counts[st]}`).join(' · ')}`);
  out.push('', style.bold('Agents'));
  out.push(
    s.agents.length
      ? table(style, ['ID', 'LEVEL', 'STATUS', 'TASK', 'LAST ACTIVE'], s.agents.map((a) => [style.bold(a.id), a.level, a.status, a.current_task_id, when(a.last_active_at)]))
      : "  none yet: team-table agent add <name>",
  );
  const section = (title: string, tasks: Task[], detail: (t: Task) => string) => {
    if (!tasks.length) return;
    out.push('', style.bold(title), table(style, ['ID', 'P', 'TITLE', 'WHO'], tasks.map((t) => [style.bold(t.id), String(t.priority), clip(t.title, 50), detail(t)])));
  };
  section('Blocked', s.blocked, (t) => clip(t.blocked_reason || t.assignees.join(', '), 50));
  section('In review', s.review, (t) => (t.reviewer ? `reviewer ${t.reviewer}` : t.assignees.join(', ')));
  section('In progress', s.in_progress, (t) => (t.claimed_by ? `${t.claimed_by} until ${when(t.lease_expires_at).slice(11)}` : t.assignees.join(', ')));
  return out.join('\n');
}

/** `team-table status`: the team at a glance (every team for the owner without --team). */
export function registerStatus(program: Command): void {
  common(program.command('status').description('the team at a glance: agents, tasks by status, what is blocked, in review, in progress')).action(
    act(async (cli) => {
      const { teams } = await cli.call<{ teams: { id: string }[] }>('team_manage', { action: 'list' });
      const wanted = cli.options.team !== undefined ? [(await cli.call<{ id: string }>('team_manage', { action: 'get' })).id] : teams.map((t) => t.id);
      const statuses: TeamStatus[] = [];
      for (const id of wanted) statuses.push(await teamStatus(cli, id));
      cli.print(cli.options.team !== undefined ? statuses[0] : { teams: statuses }, () =>
        statuses.length ? statuses.map((s) => render(cli, s)).join('\n\n') : 'No team yet: team-table init --team <name> --agents <name,…>',
      );
    }),
  );
}
