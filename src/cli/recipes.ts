import type { Core } from '../core/core.js';
import { recipes } from '../runner/recipes.js';
import type { Recipe } from '../runner/recipes.js';
import { cliCommand, quote } from './clientConfig.js';

/** The shell line that sets `recipe` on an agent of the database `db`: this CLI, as installed or from a checkout. */
export function recipeLine(agentId: string, recipe: Recipe, db: string): string {
  const args = JSON.stringify({ action: 'update', agent_id: agentId, wake_adapter: recipe.wake_adapter });
  return `${cliCommand()} call team_agent ${quote(args)} --db ${quote(db)}`;
}

/** `team-table run --print-recipes`: for each agent of each team, the four recipes' lines (and Gemini's settings file). */
export async function printRecipes(core: Core, db: string): Promise<string> {
  const owner = { kind: 'owner', name: 'runner' } as const;
  const { teams } = (await core.call(owner, 'team_manage', { action: 'list' })) as { teams: { id: string; name: string }[] };
  const out: string[] = [`# wake_adapter recipes for ${db} (docs/runner.md)`];
  for (const team of teams) {
    const { agents } = (await core.call(owner, 'team_agent', { action: 'list', team_id: team.id })) as { agents: { id: string }[] };
    for (const agent of agents) {
      out.push('', `## ${agent.id} (team ${team.name})`);
      for (const recipe of recipes({ agentId: agent.id, db })) {
        out.push(`# ${recipe.name}`, recipeLine(agent.id, recipe, db));
        if (recipe.file) out.push(`# … with ${recipe.file.path}:`, ...recipe.file.content.split('\n').map((l) => `#   ${l}`));
      }
    }
  }
  return `${out.join('\n')}\n`;
}
