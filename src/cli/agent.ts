import type { Command } from 'commander';
import { TeamTableError } from '../core/errors.js';
import { absoluteLocation } from '../store/location.js';
import { cliCommand, quote } from './clientConfig.js';
import { act, common, list } from './common.js';
import { clip, table, when } from './style.js';

interface Agent {
  id: string;
  name: string;
  role: string;
  level: string;
  status: string;
  model: string;
  skills: string[];
  heartbeat_schedule: string;
  current_task_id: string;
  last_active_at: string;
  last_heartbeat_at: string;
  role_definition: string;
  instructions: string;
  personality: string;
}

/** `team-table agent ls|add|show|wake`. */
export function registerAgent(program: Command): void {
  const agent = program.command('agent').description('agents: ls, add, show, wake');

  common(agent.command('ls').description("the team's agents"))
    .option('--status <status>', 'idle, working, paused or stopped')
    .option('--level <level>', 'junior, mid, senior or lead')
    .action(
      act(async (cli) => {
        const o = cli.options as Record<string, any>;
        const answer = await cli.call<{ agents: Agent[] }>('team_agent', { action: 'list', status: o.status, level: o.level });
        cli.print(answer, () =>
          answer.agents.length
            ? table(
                cli.style,
                ['ID', 'NAME', 'LEVEL', 'ROLE', 'STATUS', 'TASK', 'LAST ACTIVE'],
                answer.agents.map((a) => [cli.style.bold(a.id), a.name, a.level, clip(a.role, 30), a.status, a.current_task_id, when(a.last_active_at)]),
              )
            : 'No agents.',
        );
      }),
    );

  common(agent.command('add').description('create an agent (its id is derived from the name)').argument('<name>'))
    .option('--level <level>', 'junior, mid (default), senior or lead')
    .option('--role <text>', 'what it does, in words')
    .option('--role-definition <role>', 'the role that sets its permissions (lead, architect, coder, reviewer, async-worker, or a team role)')
    .option('--model <model>', 'the model it runs on')
    .option('--skills <skills>', 'skills (comma-separated, repeatable)', list)
    .option('--heartbeat <cron>', "heartbeat schedule (default '*/15 * * * *')")
    .option('--instructions <text>', 'standing instructions')
    .action(
      act(async (cli, name: string) => {
        const o = cli.options as Record<string, any>;
        const created = await cli.call<Agent>('team_agent', {
          action: 'create',
          name,
          level: o.level,
          role: o.role,
          role_definition: o.roleDefinition,
          model: o.model,
          skills: o.skills,
          heartbeat_schedule: o.heartbeat,
          instructions: o.instructions,
        });
        cli.print(created, () => `Created agent ${cli.style.bold(created.id)} (${created.level}); its MCP session: ${cliCommand()} serve --db ${quote(absoluteLocation(cli.options.db))} --agent ${created.id}`);
      }),
    );

  common(agent.command('show').description('an agent: profile and working state (WORKING.md)').argument('[agent_id]', 'default: the acting agent'))
    .action(
      act(async (cli, agentId: string | undefined) => {
        const profile = await cli.call<Agent>('team_agent', { action: 'get', agent_id: agentId });
        // The working state is private to the agent, its leads and the owner: others see the profile only.
        const working = await cli.call<{ markdown: string }>('team_agent', { action: 'working_get', agent_id: profile.id }).catch((error) => {
          if (error instanceof TeamTableError && error.code === 'PERMISSION_DENIED') return undefined;
          throw error;
        });
        cli.print({ ...profile, working }, () => {
          const fields: [string, string][] = [
            ['name', profile.name],
            ['level', profile.level + (profile.role_definition ? ` (role ${profile.role_definition})` : '')],
            ['role', profile.role],
            ['status', profile.status],
            ['task', profile.current_task_id],
            ['model', profile.model],
            ['skills', profile.skills.join(', ')],
            ['heartbeat', profile.heartbeat_schedule],
            ['active', when(profile.last_active_at)],
            ['heartbeat at', when(profile.last_heartbeat_at)],
          ];
          const lines = [cli.style.bold(profile.id)];
          for (const [name, value] of fields) if (value) lines.push(`  ${cli.style.dim(name.padEnd(12))} ${value}`);
          if (profile.instructions) lines.push('', profile.instructions);
          if (working) lines.push('', working.markdown);
          return lines.join('\n');
        });
      }),
    );

  common(agent.command('wake').description('wake an agent now, through its wake adapter').argument('<agent_id>'))
    .action(
      act(async (cli, agentId: string) => {
        const answer = await cli.call('team_agent', { action: 'wake', agent_id: agentId });
        cli.print(answer, () => `Woke ${cli.style.bold(agentId)}.`);
      }),
    );
}
