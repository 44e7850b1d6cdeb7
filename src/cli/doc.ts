import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { TeamTableError } from '../core/errors.js';
import { act, common, integer } from './common.js';
import { table, when } from './style.js';

interface Doc {
  id: string;
  title: string;
  doc_type: string;
  format: string;
  task_id: string;
  version: number;
  author: string;
  updated_at: string;
  content: string;
  content_length?: number;
}

/** The content of a document: --content, or --file (`-` for standard input). */
async function contentOf(options: { content?: string; file?: string }): Promise<string | undefined> {
  if (options.content !== undefined && options.file !== undefined) throw new TeamTableError('VALIDATION', 'content: give --content or --file, not both', { field: 'content' });
  if (options.file === undefined) return options.content;
  if (options.file !== '-') return readFile(options.file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const docFields = (command: Command) =>
  command
    .option('--content <text>', 'the content')
    .option('--file <path>', "read the content from a file ('-': standard input)")
    .option('--type <doc_type>', 'deliverable, research, protocol or notes')
    .option('--format <format>', 'markdown, code, json or image')
    .option('--task <task_id>', 'link it to a task');

/** `team-table doc [ls|show|add|update|rm|history]`: the team's versioned documents. */
export function registerDoc(program: Command): void {
  const doc = program.command('doc').description('documents: ls (default), show, add, update, rm, history');

  common(doc.command('ls', { isDefault: true }).description('documents, last changed first'))
    .option('--type <doc_type>', 'deliverable, research, protocol or notes')
    .option('--task <task_id>', 'linked to this task')
    .action(
      act(async (cli) => {
        const o = cli.options as Record<string, any>;
        const answer = await cli.call<{ documents: Doc[] }>('team_memory', { action: 'doc_list', doc_type: o.type, task_id: o.task });
        cli.print(answer, () =>
          answer.documents.length
            ? table(cli.style, ['ID', 'TITLE', 'TYPE', 'V', 'BY', 'UPDATED', 'TASK'], answer.documents.map((d) => [cli.style.bold(d.id), d.title, d.doc_type, String(d.version), d.author, when(d.updated_at), d.task_id]))
            : 'No documents.',
        );
      }),
    );

  common(doc.command('show').description('a document with its content').argument('<doc_id>'))
    .option('--version <n>', 'an earlier version', integer('version'))
    .action(
      act(async (cli, docId: string) => {
        const found = await cli.call<Doc>('team_memory', { action: 'doc_get', doc_id: docId, version: (cli.options as any).version });
        cli.print(found, () => `${cli.style.bold(found.title)} ${cli.style.dim(`(${found.doc_type}, version ${found.version}, ${found.author}, ${when(found.updated_at)})`)}\n\n${found.content}`);
      }),
    );

  docFields(common(doc.command('add').description('create a document').argument('<title>'))).action(
    act(async (cli, title: string) => {
      const o = cli.options as Record<string, any>;
      const content = await contentOf(o);
      if (content === undefined) throw new TeamTableError('VALIDATION', 'content: is required (--content or --file)', { field: 'content' });
      const created = await cli.call<Doc>('team_memory', { action: 'doc_create', title, content, doc_type: o.type, format: o.format, task_id: o.task });
      cli.print(created, () => `Created ${cli.style.bold(created.id)} ${created.title} (version 1).`);
    }),
  );

  docFields(common(doc.command('update').description('replace a document (a new version)').argument('<doc_id>')))
    .option('--title <title>', 'a new title')
    .action(
      act(async (cli, docId: string) => {
        const o = cli.options as Record<string, any>;
        const updated = await cli.call<Doc>('team_memory', { action: 'doc_update', doc_id: docId, content: await contentOf(o), title: o.title, doc_type: o.type, format: o.format, task_id: o.task });
        cli.print(updated, () => `Updated ${cli.style.bold(updated.id)} to version ${updated.version}.`);
      }),
    );

  common(doc.command('rm').description('delete a document').argument('<doc_id>')).action(
    act(async (cli, docId: string) => {
      const answer = await cli.call('team_memory', { action: 'doc_delete', doc_id: docId });
      cli.print(answer, () => `Deleted ${docId}.`);
    }),
  );

  common(doc.command('history').description("a document's versions, newest first").argument('<doc_id>')).action(
    act(async (cli, docId: string) => {
      const answer = await cli.call<{ versions: { version: number; title: string; author: string; created_at: string; content_length: number }[] }>('team_memory', { action: 'doc_history', doc_id: docId });
      cli.print(answer, () => table(cli.style, ['V', 'TITLE', 'BY', 'AT', 'CHARS'], answer.versions.map((v) => [String(v.version), v.title, v.author, when(v.created_at), String(v.content_length)])));
    }),
  );
}
