import type { Command } from 'commander';
import { act, common, integer, list } from './common.js';
import type { Cli } from './common.js';
import { clip, table, when } from './style.js';
import type { Style } from './style.js';

interface Task {
  id: string;
  title: string;
  description: string;
  status: string;
  priority: number;
  assignees: string[];
  labels: string[];
  claimed_by: string;
  lease_expires_at: string;
  reviewer: string;
  blocked_reason: string;
  blocked_by: string[];
  waiting_on: string[];
  parent_id: string;
  task_type: string;
  version: number;
  created_by: string;
  created_at: string;
  updated_at: string;
}

const STATUS_COLOURS: Record<string, keyof Style> = { inbox: 'cyan', assigned: 'blue', in_progress: 'yellow', review: 'magenta', done: 'green', blocked: 'red', cancelled: 'gray' };

export const statusOf = (style: Style, status: string) => (style[STATUS_COLOURS[status] ?? 'reset'] as (s: string) => string)(status);

export function taskTable(style: Style, tasks: Task[]): string {
  return table(
    style,
    ['ID', 'P', 'STATUS', 'TITLE', 'ASSIGNEES', 'HOLDER'],
    tasks.map((t) => [style.bold(t.id), String(t.priority), statusOf(style, t.status), clip(t.title, 60), t.assignees.join(','), t.claimed_by]),
  );
}

/** One task as a person reads it: its fields, then its feed. */
function taskDetail(style: Style, task: Task & { feed_text?: string; subtasks?: { id: string; title: string; status: string }[]; blocks?: string[] }): string {
  const fields: [string, string][] = [
    ['status', statusOf(style, task.status) + (task.blocked_reason ? ` — ${task.blocked_reason}` : '')],
    ['priority', String(task.priority)],
    ['assignees', task.assignees.join(', ')],
    ['holder', task.claimed_by ? `${task.claimed_by} (lease until ${when(task.lease_expires_at)})` : ''],
    ['reviewer', task.reviewer],
    ['labels', task.labels.join(', ')],
    ['type', task.task_type],
    ['parent', task.parent_id],
    ['blocked by', task.blocked_by.join(', ') + (task.waiting_on.length ? ` (waiting on ${task.waiting_on.join(', ')})` : '')],
    ['blocks', task.blocks?.join(', ') ?? ''],
    ['subtasks', task.subtasks?.map((s) => `${s.id} ${s.status}`).join(', ') ?? ''],
    ['created', `${when(task.created_at)} by ${task.created_by}`],
    ['version', String(task.version)],
  ];
  const lines = [`${style.bold(task.id)}  ${style.bold(task.title)}`];
  for (const [name, value] of fields) if (value.trim()) lines.push(`  ${style.dim(name.padEnd(10))} ${value}`);
  if (task.description) lines.push('', task.description);
  if (task.feed_text) lines.push('', style.dim('Feed'), task.feed_text);
  return lines.join('\n');
}

const printTask = (cli: Cli, task: Task) => cli.print(task, () => taskDetail(cli.style, task));

/** `team-table task ls|add|show|mv|assign|claim`. */
export function registerTask(program: Command): void {
  const task = program.command('task').description('tasks: ls, add, show, mv, assign, claim');

  common(task.command('ls').description('list tasks, highest priority first'))
    .option('--status <status>', 'inbox, assigned, in_progress, review, done, blocked or cancelled')
    .option('--assignee <agent_id>', 'assigned to this agent')
    .option('--label <label>', 'with this label')
    .option('--priority <n>', 'of this priority (1 highest … 5)', integer('priority'))
    .option('--parent <task_id>', 'subtasks of this task')
    .option('--limit <n>', 'at most this many (default 100)', integer('limit'))
    .action(
      act(async (cli) => {
        const o = cli.options as Record<string, any>;
        const answer = await cli.call('team_task', { action: 'list', status: o.status, assignee_filter: o.assignee, label: o.label, priority: o.priority, parent_id: o.parent, limit: o.limit });
        cli.print(answer, () => (answer.tasks.length ? taskTable(cli.style, answer.tasks) + (answer.truncated ? cli.style.dim('\n… more: raise --limit or filter') : '') : 'No tasks.'));
      }),
    );

  common(task.command('add').description('create a task').argument('<title>', 'what is to be done'))
    .option('-d, --description <text>', 'details')
    .option('-p, --priority <n>', '1 highest … 5 (default 3)', integer('priority'))
    .option('-a, --assignee <agent_ids>', 'assign (comma-separated, repeatable)', list)
    .option('-l, --label <labels>', 'labels (comma-separated, repeatable)', list)
    .option('--reviewer <agent_id>', 'who approves it out of review')
    .option('--parent <task_id>', 'make it a subtask')
    .option('--type <task_type>', 'kind of work (design, implement, review, …)')
    .option('--blocked-by <task_ids>', 'tasks it waits for (comma-separated)', list)
    .action(
      act(async (cli, title: string) => {
        const o = cli.options as Record<string, any>;
        const created = await cli.call<Task>('team_task', {
          action: 'create',
          title,
          description: o.description,
          priority: o.priority,
          assignees: o.assignee,
          labels: o.label,
          reviewer: o.reviewer,
          parent_id: o.parent,
          task_type: o.type,
          blocked_by: o.blockedBy,
        });
        cli.print(created, () => `Created ${cli.style.bold(created.id)} ${created.title} (${statusOf(cli.style, created.status)})`);
      }),
    );

  common(task.command('show').description('a task with its subtasks, dependencies and feed').argument('<task_id>'))
    .action(act(async (cli, taskId: string) => printTask(cli, await cli.call('team_task', { action: 'get', task_id: taskId }))));

  common(task.command('mv').description('move a task to a status (the workflow decides which moves are allowed)').argument('<task_id>').argument('<status>'))
    .option('--reason <text>', 'why it is blocked (with status blocked)')
    .option('--expected-version <n>', 'refuse if the task changed since this version', integer('expected-version'))
    .action(
      act(async (cli, taskId: string, status: string) => {
        const o = cli.options as Record<string, any>;
        const moved = await cli.call<Task>('team_task', { action: 'update', task_id: taskId, status, blocked_reason: o.reason, expected_version: o.expectedVersion });
        cli.print(moved, () => `${cli.style.bold(moved.id)} is ${statusOf(cli.style, moved.status)}`);
      }),
    );

  common(task.command('assign').description('set the assignees of a task (replaces them; none unassigns)').argument('<task_id>').argument('[agent_ids...]'))
    .action(
      act(async (cli, taskId: string, agents: string[]) => {
        const assigned = await cli.call<Task>('team_task', { action: 'assign', task_id: taskId, assignees: agents.flatMap((a) => list(a)) });
        cli.print(assigned, () => `${cli.style.bold(assigned.id)} assigned to ${assigned.assignees.join(', ') || 'nobody'} (${statusOf(cli.style, assigned.status)})`);
      }),
    );

  common(task.command('claim').description('take a task (or, without one, the best ready task) with a lease').argument('[task_id]'))
    .option('--for <agent_id>', 'claim for this agent (the owner or a lead acting for it)')
    .option('--label <label>', 'without a task: only tasks with this label')
    .option('--type <task_type>', 'without a task: only tasks of this type')
    .action(
      act(async (cli, taskId: string | undefined) => {
        const o = cli.options as Record<string, any>;
        const answer = taskId
          ? await cli.call('team_task', { action: 'claim', task_id: taskId, agent_id: o.for })
          : await cli.call('team_task', { action: 'claim_next', agent_id: o.for, label: o.label, task_type: o.type });
        const claimed = ('task' in answer ? answer.task : answer) as Task | null;
        cli.print(answer, () => (claimed ? `Claimed ${cli.style.bold(claimed.id)} ${claimed.title} — lease until ${when(claimed.lease_expires_at)}` : 'Nothing ready to claim.'));
      }),
    );
}
