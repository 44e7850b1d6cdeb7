import type { Command } from 'commander';
import { act, common, integer } from './common.js';
import { clip, table, when } from './style.js';

interface Fact {
  key: string;
  namespace: string;
  value: string;
  version: number;
  author: string;
  updated_at: string;
  expires_at: string;
}

const factKey = (f: Pick<Fact, 'namespace' | 'key'>) => (f.namespace === 'default' ? f.key : `${f.namespace}/${f.key}`);

/** `team-table fact [ls|get|set|rm|history]`: the team's shared facts. */
export function registerFact(program: Command): void {
  const fact = program.command('fact').description('shared facts: ls (default), get, set, rm, history');

  common(fact.command('ls', { isDefault: true }).description('facts, by namespace and key'))
    .option('--namespace <ns>', 'only this namespace')
    .action(
      act(async (cli) => {
        const answer = await cli.call<{ facts: Fact[] }>('team_memory', { action: 'fact_list', namespace: (cli.options as any).namespace });
        cli.print(answer, () =>
          answer.facts.length
            ? table(cli.style, ['KEY', 'VALUE', 'V', 'BY', 'UPDATED', 'EXPIRES'], answer.facts.map((f) => [cli.style.bold(factKey(f)), clip(f.value, 60), String(f.version), f.author, when(f.updated_at), when(f.expires_at)]))
            : 'No facts.',
        );
      }),
    );

  common(fact.command('get').description('one fact').argument('<key>'))
    .option('--namespace <ns>', "its namespace (default 'default')")
    .action(
      act(async (cli, key: string) => {
        const found = await cli.call<Fact>('team_memory', { action: 'fact_get', key, namespace: (cli.options as any).namespace });
        cli.print(found, () => found.value);
      }),
    );

  common(fact.command('set').description('save a fact (a new version of it)').argument('<key>').argument('<value>'))
    .option('--namespace <ns>', "its namespace (default 'default')")
    .option('--ttl <seconds>', 'forget it after this many seconds', integer('ttl'))
    .option('--expected-version <n>', 'only if the fact is at this version (0: only if new)', integer('expected-version'))
    .action(
      act(async (cli, key: string, value: string) => {
        const o = cli.options as Record<string, any>;
        const saved = await cli.call<Fact>('team_memory', { action: 'fact_save', key, value, namespace: o.namespace, ttl: o.ttl, expected_version: o.expectedVersion });
        cli.print(saved, () => `Saved ${cli.style.bold(factKey(saved))} (version ${saved.version}).`);
      }),
    );

  common(fact.command('rm').description('delete a fact (its history stays)').argument('<key>'))
    .option('--namespace <ns>', "its namespace (default 'default')")
    .action(
      act(async (cli, key: string) => {
        const answer = await cli.call('team_memory', { action: 'fact_delete', key, namespace: (cli.options as any).namespace });
        cli.print(answer, () => `Deleted ${key}.`);
      }),
    );

  common(fact.command('history').description('every version of a fact, newest first').argument('<key>'))
    .option('--namespace <ns>', "its namespace (default 'default')")
    .action(
      act(async (cli, key: string) => {
        const answer = await cli.call<{ versions: (Fact & { created_at: string })[] }>('team_memory', { action: 'fact_history', key, namespace: (cli.options as any).namespace });
        cli.print(answer, () => table(cli.style, ['V', 'VALUE', 'BY', 'AT'], answer.versions.map((v) => [String(v.version), clip(v.value, 70), v.author, when(v.created_at)])));
      }),
    );
}
