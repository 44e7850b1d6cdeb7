import type { TeamEvent } from './api.js';
import { eventRow } from './activity.js';
import { field, h, replace, when } from './dom.js';
import { renderMarkdown } from './markdown.js';
import type { Agent, Session } from './state.js';
import { all } from './state.js';

/** The views that read one list each: mail, facts, documents, notifications, the standup and the audit log. */

interface Mail {
  id: string;
  message_id: string;
  from_agent: string;
  from_user: string;
  content: string;
  thread_id: string;
  reason: string;
  created_at: string;
  read: boolean;
  task_id: string;
}

/** An agent's mailbox grouped by thread (the owner picks the agent; an agent sees its own). */
export async function renderMail(session: Session, view: HTMLElement, agentId: string | undefined): Promise<void> {
  const agents = session.me.kind === 'owner' ? await all<Agent>(session.api, '/agents', 'agents') : [];
  const who = agentId ?? (session.me.kind === 'agent' ? session.me.id : agents[0]?.id);
  const picker =
    session.me.kind === 'owner' &&
    h(
      'select',
      { 'aria-label': 'Whose mailbox', onchange: (event: Event) => (location.hash = `#/mail/${encodeURIComponent((event.target as HTMLSelectElement).value)}`) },
      agents.map((a) => h('option', { value: a.id, selected: a.id === who }, a.name)),
    );
  if (!who) return replace(view, h('h2', {}, 'Mail'), h('p', { class: 'muted' }, 'No agents yet.'));
  const { messages } = await session.api.get<{ messages: Mail[] }>('/inbox', { agent_id: who, include_archived: true, limit: 200 });
  const threads = new Map<string, Mail[]>();
  for (const message of [...messages].reverse()) {
    const key = message.thread_id || message.task_id || message.message_id;
    threads.set(key, [...(threads.get(key) ?? []), message]);
  }
  replace(
    view,
    h('h2', {}, 'Mail of ', who),
    picker,
    threads.size === 0 && h('p', { class: 'muted' }, 'No mail.'),
    [...threads.entries()].reverse().map(([key, thread]) =>
      h(
        'section',
        { class: 'card thread' },
        h('h3', {}, thread[0]!.task_id ? h('a', { href: `#/task/${encodeURIComponent(thread[0]!.task_id)}` }, `task ${thread[0]!.task_id}`) : thread[0]!.thread_id ? `thread ${key}` : 'message'),
        h(
          'ol',
          {},
          thread.map((m) =>
            h(
              'li',
              { class: m.read ? 'read' : 'unread' },
              h('div', { class: 'meta' }, field('from', m.from_agent || m.from_user), h('span', { class: 'tag' }, m.reason), h('time', { datetime: m.created_at }, when(m.created_at)), !m.read && h('strong', {}, 'unread')),
              renderMarkdown(m.content),
            ),
          ),
        ),
      ),
    ),
  );
}

interface Fact {
  key: string;
  namespace: string;
  value: string;
  author: string;
  version: number;
  updated_at: string;
  expires_at: string;
}

/** Facts by namespace with version and expiry; a key opens its history. */
export async function renderFacts(session: Session, view: HTMLElement): Promise<void> {
  const facts = await all<Fact>(session.api, '/facts', 'facts');
  const history = h('div', { class: 'history', 'aria-live': 'polite' });
  const open = async (fact: Fact) => {
    const { versions } = await session.api.get<{ versions: (Fact & { created_at: string })[] }>(`/facts/${encodeURIComponent(fact.key)}/history`, { namespace: fact.namespace });
    replace(history, h('h3', {}, `History of ${fact.namespace}/${fact.key}`), h('ol', {}, versions.map((v) => h('li', {}, field('v', String(v.version)), ' ', v.value, ' ', field('by', v.author), ' ', when(v.created_at)))));
  };
  const namespaces = [...new Set(facts.map((f) => f.namespace))].sort();
  replace(
    view,
    h('h2', {}, 'Facts'),
    facts.length === 0 && h('p', { class: 'muted' }, 'No facts.'),
    namespaces.map((ns) =>
      h(
        'section',
        {},
        h('h3', {}, ns),
        h(
          'table',
          {},
          h('thead', {}, h('tr', {}, ['key', 'value', 'version', 'by', 'updated', 'expires'].map((c) => h('th', { scope: 'col' }, c)))),
          h(
            'tbody',
            {},
            facts
              .filter((f) => f.namespace === ns)
              .map((f) => h('tr', {}, h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => void open(f) }, f.key)), h('td', {}, f.value), h('td', {}, String(f.version)), h('td', {}, f.author), h('td', {}, when(f.updated_at)), h('td', {}, f.expires_at ? when(f.expires_at) : 'never'))),
          ),
        ),
      ),
    ),
    history,
  );
}

interface Doc {
  id: string;
  title: string;
  doc_type: string;
  format: string;
  version: number;
  author: string;
  updated_at: string;
  task_id: string;
  content?: string;
  content_next_offset?: number;
}

export async function renderDocs(session: Session, view: HTMLElement): Promise<void> {
  const docs = await all<Doc>(session.api, '/documents', 'documents');
  replace(
    view,
    h('h2', {}, 'Documents'),
    docs.length === 0 && h('p', { class: 'muted' }, 'No documents.'),
    h('ul', { class: 'docs' }, docs.map((d) => h('li', { class: 'card' }, h('a', { class: 'title', href: `#/doc/${encodeURIComponent(d.id)}` }, d.title), h('div', { class: 'meta' }, h('span', { class: 'tag' }, d.doc_type), field('v', String(d.version)), field('by', d.author), when(d.updated_at))))),
  );
}

/** One document (any version), rendered as markdown when it is, with its versions. */
export async function renderDoc(session: Session, view: HTMLElement, id: string, version?: number): Promise<void> {
  const path = `/documents/${encodeURIComponent(id)}`;
  const [doc, history] = await Promise.all([session.api.get<Doc>(path, { version }), session.api.get<{ versions: Doc[] }>(`${path}/history`)]);
  // A long document comes in parts.
  for (let part = doc; part.content_next_offset; ) {
    part = await session.api.get<Doc>(path, { version: doc.version, content_offset: part.content_next_offset });
    doc.content += part.content ?? '';
  }
  replace(
    view,
    h('p', {}, h('a', { href: '#/docs' }, '← Documents')),
    h('h2', {}, doc.title),
    h('div', { class: 'meta' }, field('version', String(doc.version)), field('type', doc.doc_type), field('by', doc.author), doc.task_id && h('a', { href: `#/task/${encodeURIComponent(doc.task_id)}` }, `task ${doc.task_id}`)),
    doc.format === 'markdown' ? renderMarkdown(doc.content ?? '') : h('pre', {}, doc.content ?? ''),
    h('h3', {}, 'Versions'),
    h('ol', {}, history.versions.map((v) => h('li', {}, h('a', { href: `#/doc/${encodeURIComponent(id)}/${v.version}` }, `v${v.version}`), ' ', field('by', v.author), ' ', when((v as Doc & { created_at: string }).created_at)))),
  );
}

interface Notification {
  id: string;
  type: string;
  message: string;
  priority: number;
  agent_id: string;
  to_agent: string;
  task_id: string;
  created_at: string;
  read_at: string;
  deliveries: { id: string; destination: unknown; state: string; attempts: number; last_error: string; sent_at: string }[];
}

/** Notifications with each delivery's state (this marks those shown read for the signed-in actor, as notify_list does). */
export async function renderNotifications(session: Session, view: HTMLElement): Promise<void> {
  const { notifications } = await session.api.post<{ notifications: Notification[] }>('/notifications/check', { limit: 100 });
  replace(
    view,
    h('h2', {}, 'Notifications'),
    notifications.length === 0 && h('p', { class: 'muted' }, 'No notifications.'),
    h(
      'ol',
      { class: 'notifications' },
      notifications.map((n) =>
        h(
          'li',
          { class: 'card' },
          h('div', { class: 'meta' }, h('span', { class: 'tag' }, n.type), field('P', String(n.priority)), field('from', n.agent_id), n.to_agent && field('to', n.to_agent), when(n.created_at)),
          h('p', {}, n.message),
          n.deliveries.length > 0 &&
            h(
              'ul',
              { class: 'deliveries', 'aria-label': 'Deliveries' },
              n.deliveries.map((d) => h('li', {}, h('span', { class: `tag delivery-${d.state}` }, d.state), ' ', typeof d.destination === 'string' ? d.destination : JSON.stringify(d.destination), d.attempts ? ` (${d.attempts} attempts)` : '', d.last_error ? ` — ${d.last_error}` : '', d.sent_at ? ` sent ${when(d.sent_at)}` : '')),
            ),
        ),
      ),
    ),
  );
}

interface StandupItem {
  id: string;
  title: string;
  assignees?: string[];
  blocked_reason?: string;
}

export async function renderStandup(session: Session, view: HTMLElement): Promise<void> {
  const standup = await session.api.get<Record<string, StandupItem[]> & { date: string }>('/standup');
  const sections: [string, string][] = [['completed_today', 'Completed today'], ['in_progress', 'In progress'], ['blocked', 'Blocked'], ['needs_review', 'Needs review']];
  replace(
    view,
    h('h2', {}, 'Standup ', h('span', { class: 'muted' }, standup.date)),
    sections.map(([key, title]) =>
      h(
        'section',
        {},
        h('h3', {}, title),
        (standup[key] ?? []).length === 0
          ? h('p', { class: 'muted' }, 'none')
          : h('ul', {}, (standup[key] ?? []).map((t) => h('li', {}, h('a', { href: `#/task/${encodeURIComponent(t.id)}` }, t.title), t.assignees?.length ? ` — ${t.assignees.join(', ')}` : '', t.blocked_reason ? ` (${t.blocked_reason})` : ''))),
      ),
    ),
  );
}

/** How many of the latest entries the audit view shows. */
const AUDIT_SHOWN = 500;

/**
 * The audit log's latest entries, newest first. The log is read forward from a sequence number (one numbering for
 * every team), so the view reads from a little before the head the stream reported, and further back while the team's
 * (or the filters') share of that stretch is short of AUDIT_SHOWN.
 */
export async function renderAudit(session: Session, view: HTMLElement): Promise<void> {
  const agent = h('input', { type: 'search', 'aria-label': 'Agent', placeholder: 'agent' });
  const type = h('input', { type: 'search', 'aria-label': 'Type', placeholder: 'type' });
  const list = h('ol', { class: 'activity' });
  const readAfter = async (afterSeq: number) => {
    const events: TeamEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await session.api.get<{ events: TeamEvent[]; next_cursor: string | null }>('/audit', { limit: 500, cursor, after_seq: cursor ? undefined : afterSeq, agent_id: agent.value.trim() || undefined, type: type.value.trim() || undefined });
      events.push(...page.events);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return events;
  };
  const load = async () => {
    await session.connected;
    let back = AUDIT_SHOWN;
    let events = await readAfter(Math.max(0, session.head - back));
    while (events.length < AUDIT_SHOWN && session.head - back > 0) {
      back *= 8;
      events = await readAfter(Math.max(0, session.head - back));
    }
    replace(list, events.slice(-AUDIT_SHOWN).reverse().map(eventRow));
  };
  const form = h('form', { class: 'filters', onsubmit: (event: Event) => (event.preventDefault(), void load()) }, agent, type, h('button', { type: 'submit' }, 'Filter'));
  replace(view, h('h2', {}, 'Audit log'), form, h('p', { class: 'muted' }, `The latest ${AUDIT_SHOWN} entries, newest first.`), list);
  await load();
}
