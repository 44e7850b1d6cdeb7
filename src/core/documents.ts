import { z } from 'zod';
import type { DocumentRow } from '../store/schema.js';
import { defineAction } from './action.js';
import type { Ctx } from './context.js';
import { notFound } from './errors.js';
import { DOC_FORMATS, DOC_TYPES, cursor, limit, taskRef, teamRef } from './fields.js';
import { newId } from './ids.js';
import { LIMITS } from './limits.js';
import { PAGE_BUDGET, after, decodeCursor, jsonBytes, pageFields, takePage } from './paging.js';
import { defined } from './patch.js';

const docRef = z.string().min(1).max(LIMITS.agentId);
const title = z.string().trim().min(1).max(LIMITS.title);
const content = z.string().min(1).max(LIMITS.documentContent);
const docFields = {
  doc_type: z.enum(DOC_TYPES).optional(),
  format: z.enum(DOC_FORMATS).optional(),
  /** A link kept as given (like working state's current_task_id): a document may outlive its task. */
  task_id: z.union([taskRef, z.literal('')]).optional(),
  file_path: z.string().max(LIMITS.shortText).optional(),
};

/** Keeps the version just written, so that every version stays readable. */
async function recordVersion(ctx: Ctx, doc: DocumentRow) {
  const { id: doc_id, version, title, doc_type, format, content } = doc;
  await ctx.db.insertInto('team_document_versions').values({ doc_id, version, title, doc_type, format, content, author: ctx.actorId, created_at: ctx.now }).execute();
}

/**
 * The document with as much of its content, from `offset` (characters), as fits one answer — all of it unless it
 * is very long (262,144 characters of CJK text take 768 KB of JSON). A cut is said in `cut`, `content_length` and
 * `content_rest` (the call that returns what follows); the content itself carries no marker, since it may be code.
 */
export function boundedDocument<D extends { id: string; content: string }>(doc: D, offset = 0) {
  // Never start or end inside a surrogate pair.
  const from = /[\uDC00-\uDFFF]/.test(doc.content[offset] ?? '') ? offset - 1 : offset;
  const rest = doc.content.slice(Math.max(0, from));
  const budget = PAGE_BUDGET - jsonBytes({ ...doc, content: '' });
  if (from === 0 && jsonBytes(rest) <= budget) return doc;
  let fits = 0;
  for (let low = 0, high = rest.length; low <= high; ) {
    const mid = (low + high) >> 1;
    if (jsonBytes(rest.slice(0, mid)) <= budget) [fits, low] = [mid, mid + 1];
    else high = mid - 1;
  }
  if (fits < rest.length && /[\uD800-\uDBFF]/.test(rest[fits - 1] ?? '')) fits -= 1;
  const next = from + fits;
  const whole = next >= doc.content.length;
  return {
    ...doc,
    content: rest.slice(0, fits),
    content_offset: from,
    content_length: doc.content.length,
    ...(whole ? {} : { cut: ['content'], content_next_offset: next, content_rest: `team_memory(action='doc_get', doc_id='${doc.id}', content_offset=${next})` }),
  };
}

async function loadDocument(ctx: Ctx, teamRef: string | undefined, docId: string): Promise<DocumentRow> {
  const team = await ctx.team(teamRef);
  const doc = await ctx.db.selectFrom('team_documents').selectAll().where('id', '=', docId).where('team_id', '=', team.id).executeTakeFirst();
  if (!doc) throw notFound('document', docId, "list documents with team_memory(action='doc_list')");
  return doc;
}

const create = defineAction({
  tool: 'team_memory',
  action: 'doc_create',
  summary: 'create a document',
  input: z.strictObject({ team_id: teamRef, title, content, ...docFields, doc_type: z.enum(DOC_TYPES).default('deliverable'), format: z.enum(DOC_FORMATS).default('markdown') }),
  write: true,
  creates: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const doc: DocumentRow = {
      id: newId(),
      team_id: team.id,
      task_id: input.task_id ?? '',
      title: input.title,
      doc_type: input.doc_type,
      content: input.content,
      format: input.format,
      file_path: input.file_path ?? '',
      version: 1,
      author: ctx.actorId,
      created_at: ctx.now,
      updated_at: ctx.now,
    };
    await ctx.db.insertInto('team_documents').values(doc).execute();
    await recordVersion(ctx, doc);
    ctx.emit({ team_id: team.id, type: 'document_created', message: `${ctx.actorId} created ${doc.doc_type} '${doc.title}'`, related_id: doc.id, data: { task_id: doc.task_id, version: 1 } });
    return boundedDocument(doc);
  },
});

const list = defineAction({
  tool: 'team_memory',
  action: 'doc_list',
  summary: 'documents without content, last updated first',
  input: z.strictObject({ team_id: teamRef, doc_type: z.enum(DOC_TYPES).optional(), task_id: taskRef.optional(), limit: limit(LIMITS.pageSize), cursor }),
  write: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const position = decodeCursor('documents', input.cursor, 2);
    let query = ctx.db
      .selectFrom('team_documents')
      .select(['id', 'team_id', 'task_id', 'title', 'doc_type', 'format', 'file_path', 'version', 'author', 'created_at', 'updated_at'])
      .select((eb) => eb.fn<number>('length', ['content']).as('content_length'))
      .where('team_id', '=', team.id);
    if (input.doc_type) query = query.where('doc_type', '=', input.doc_type);
    if (input.task_id) query = query.where('task_id', '=', input.task_id);
    if (position) query = query.where(after(['updated_at', 'id'], position, 'desc'));
    const rows = await query.orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(input.limit + 1).execute();
    const page = takePage(rows, { limit: input.limit, list: 'documents', position: (d) => [d.updated_at, d.id], render: (d) => d });
    return { team_id: team.id, documents: page.items, count: page.items.length, ...pageFields(page) };
  },
});

const get = defineAction({
  tool: 'team_memory',
  action: 'doc_get',
  summary: 'a document with content (version: an earlier one; long content in parts: content_offset)',
  input: z.strictObject({ team_id: teamRef, doc_id: docRef, version: z.number().int().min(1).optional(), content_offset: z.number().int().min(0).default(0) }),
  write: false,
  async run(ctx, input) {
    const doc = await loadDocument(ctx, input.team_id, input.doc_id);
    if (input.version === undefined || input.version === doc.version) return boundedDocument(doc, input.content_offset);
    const old = await ctx.db.selectFrom('team_document_versions').selectAll().where('doc_id', '=', doc.id).where('version', '=', input.version).executeTakeFirst();
    if (!old) throw notFound('version', String(input.version), `document ${doc.id} has versions 1 to ${doc.version}`);
    return boundedDocument({ ...doc, title: old.title, doc_type: old.doc_type, format: old.format, content: old.content, version: old.version, author: old.author, updated_at: old.created_at }, input.content_offset);
  },
});

const history = defineAction({
  tool: 'team_memory',
  action: 'doc_history',
  summary: "a document's versions, newest first",
  input: z.strictObject({ team_id: teamRef, doc_id: docRef, limit: limit(LIMITS.pageSize), cursor }),
  write: false,
  async run(ctx, input) {
    const doc = await loadDocument(ctx, input.team_id, input.doc_id);
    const position = decodeCursor('doc_history', input.cursor, 1);
    const rows = await ctx.db
      .selectFrom('team_document_versions')
      .select(['version', 'title', 'author', 'created_at'])
      .select((eb) => eb.fn<number>('length', ['content']).as('content_length'))
      .where('doc_id', '=', doc.id)
      .$if(position !== undefined, (q) => q.where('version', '<', Number(position![0])))
      .orderBy('version', 'desc')
      .limit(input.limit + 1)
      .execute();
    const page = takePage(rows, { limit: input.limit, list: 'doc_history', position: (v) => [v.version], render: (v) => v });
    return { doc_id: doc.id, title: doc.title, versions: page.items, count: page.items.length, ...pageFields(page) };
  },
});

const update = defineAction({
  tool: 'team_memory',
  action: 'doc_update',
  summary: 'replace content (and title, doc_type, format); version +1',
  input: z.strictObject({ team_id: teamRef, doc_id: docRef, content: content.optional(), title: title.optional(), ...docFields }),
  write: true,
  creates: true,
  async run(ctx, { team_id, doc_id, ...changes }) {
    const doc = await loadDocument(ctx, team_id, doc_id);
    const next: DocumentRow = { ...doc, ...defined(changes), version: doc.version + 1, updated_at: ctx.now };
    await ctx.db.updateTable('team_documents').set(next).where('id', '=', doc.id).execute();
    await recordVersion(ctx, next);
    ctx.emit({ team_id: doc.team_id, type: 'document_updated', message: `${ctx.actorId} updated '${next.title}' to version ${next.version}`, related_id: doc.id, data: { version: next.version } });
    return boundedDocument(next);
  },
});

const remove = defineAction({
  tool: 'team_memory',
  action: 'doc_delete',
  summary: 'delete a document',
  input: z.strictObject({ team_id: teamRef, doc_id: docRef }),
  write: true,
  async run(ctx, input) {
    const doc = await loadDocument(ctx, input.team_id, input.doc_id);
    await ctx.db.deleteFrom('team_documents').where('id', '=', doc.id).execute();
    ctx.emit({ team_id: doc.team_id, type: 'document_deleted', message: `${ctx.actorId} deleted '${doc.title}'`, related_id: doc.id });
    return { deleted: true, id: doc.id };
  },
});

export const documentActions = [create, list, get, history, update, remove];
