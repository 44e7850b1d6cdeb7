import { taskOf, moveControl } from './board.js';
import { field, h, replace, when } from './dom.js';
import { inline, renderMarkdown } from './markdown.js';
import type { Session, Task } from './state.js';
import { act, coalesce } from './state.js';

interface FeedItem {
  at: string;
  kind: string;
  agent: string;
  text: string;
  id: string;
}

interface TaskDetail extends Task {
  blocks: string[];
  subtasks: { id: string; title: string; status: string }[];
  progress: { total: number; done: number };
  feed: FeedItem[];
  next_cursor: string | null;
}

const taskLink = (id: string) => h('a', { href: `#/task/${encodeURIComponent(id)}` }, id);

/** A text box and a button that sends it; the box empties once the server accepted. */
function composer(label: string, button: string, send: (text: string) => Promise<unknown>, extra?: HTMLElement | false): HTMLElement {
  const box = h('textarea', { rows: 2, 'aria-label': label, placeholder: label });
  const submit = async () => {
    // Sent: empty the box on the page, which may be a redrawn copy of this one by now.
    if (await act(() => send(box.value))) for (const shown of document.querySelectorAll<HTMLTextAreaElement>(`textarea[aria-label="${CSS.escape(label)}"]`)) shown.value = '';
  };
  return h('div', { class: 'composer' }, box, extra, h('button', { type: 'button', onclick: () => void submit() }, button));
}

/**
 * What the person has typed in `view`'s boxes and where the focus is, to put back once the view is redrawn: an
 * agent's comment on the task redraws it, and must not wipe a half-written reply.
 */
function typedSoFar(view: HTMLElement): () => void {
  const boxes = (root: HTMLElement) => [...root.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>('input, textarea')];
  const typed = new Map(boxes(view).filter((box) => box.value !== box.defaultValue).map((box) => [box.getAttribute('aria-label'), box.value]));
  const focused = document.activeElement instanceof HTMLElement && view.contains(document.activeElement) ? document.activeElement.getAttribute('aria-label') : null;
  return () => {
    for (const box of boxes(view)) {
      const label = box.getAttribute('aria-label');
      if (typed.has(label)) box.value = typed.get(label)!;
      if (focused && label === focused) box.focus();
    }
  };
}

/**
 * One task: its fields, subtasks, dependencies and the chronological feed (creation, status changes, comments by
 * type, linked mail and documents), with the actions of the board and the reviewer's. Redrawn when an event about
 * it arrives.
 */
export async function renderTask(session: Session, view: HTMLElement, id: string): Promise<void> {
  const api = session.api;
  const path = `/tasks/${encodeURIComponent(id)}`;
  const draw = async () => {
    const task = await api.get<TaskDetail>(path);
    const older: FeedItem[] = [];
    let cursor = task.next_cursor;
    const feed = h('ol', { class: 'feed' });
    const drawFeed = () =>
      replace(
        feed,
        [...older, ...task.feed].map((item) =>
          h('li', { class: `feed-${item.kind}` }, h('time', { datetime: item.at }, when(item.at)), ' ', h('span', { class: 'tag' }, item.kind), ' ', h('span', { class: 'text' }, inline(item.text))),
        ),
      );
    drawFeed();
    const more = h('button', {
      type: 'button',
      hidden: !cursor,
      onclick: async () => {
        const page = await api.get<TaskDetail>(path, { cursor: cursor ?? undefined });
        older.unshift(...page.feed);
        cursor = page.next_cursor;
        more.hidden = !cursor;
        drawFeed();
      },
    }, 'Older entries');
    const assignees = h('input', { type: 'text', value: task.assignees.join(', '), 'aria-label': 'Assignees (agent ids, comma separated)' });
    // An agent's stream carries only the events that concern it: the page's own change is redrawn without waiting.
    const then = (sent: Promise<unknown>) => sent.then(() => redraw());
    // Read just before the view is replaced (no await in between), so a box emptied by a sent comment stays empty.
    const typed = typedSoFar(view);
    const commentType = h('select', { 'aria-label': 'Comment type' }, ['comment', 'status_change', 'blocker', 'resolution'].map((t) => h('option', { value: t }, t)));
    replace(
      view,
      h(
        'article',
        { class: 'task-detail' },
        h('p', {}, h('a', { href: '#/board' }, '← Board')),
        h('h2', {}, task.title),
        h(
          'div',
          { class: 'meta' },
          field('id', task.id),
          field('status', task.status),
          field('priority', String(task.priority)),
          field('assignees', task.assignees.join(', ') || '—'),
          task.claimed_by && field('held by', `${task.claimed_by} until ${when(task.lease_expires_at)}`),
          field('reviewer', task.reviewer || '—'),
          task.labels.length > 0 && field('labels', task.labels.join(', ')),
          task.parent_id && field('parent', taskLink(task.parent_id)),
          task.blocked_by.length > 0 && field('blocked by', task.blocked_by.map(taskLink)),
          task.blocks.length > 0 && field('blocks', task.blocks.map(taskLink)),
          task.blocked_reason && field('blocked because', task.blocked_reason),
        ),
        task.description && renderMarkdown(task.description),
        task.subtasks.length > 0 &&
          h(
            'section',
            {},
            h('h3', {}, `Subtasks ${task.progress.done}/${task.progress.total}`),
            h('ul', {}, task.subtasks.map((s) => h('li', {}, taskLink(s.id), ' ', s.title, ' ', h('span', { class: 'tag' }, s.status)))),
          ),
        h(
          'section',
          { class: 'actions', 'aria-label': 'Actions' },
          h('div', {}, moveControl(session, task, () => void draw())),
          h('div', {}, assignees, h('button', { type: 'button', onclick: () => void act(() => then(api.post(`${path}/assign`, { assignees: assignees.value.split(',').map((s) => s.trim()).filter(Boolean), expected_version: task.version }))) }, 'Assign')),
          composer('Comment (@id mentions)', 'Comment', (content) => then(api.post(`${path}/comments`, { content, type: commentType.value })), commentType),
          task.status === 'review' && composer('Resolution (optional)', 'Approve', (content) => then(api.post(`${path}/approve`, { ...(content ? { content } : {}), expected_version: task.version }))),
          task.status === 'review' && composer('What to change', 'Request changes', (content) => then(api.post(`${path}/request_changes`, { content, expected_version: task.version }))),
        ),
        h('section', {}, h('h3', {}, 'Feed'), more, feed),
      ),
    );
    typed();
  };
  await draw();
  const redraw = coalesce(draw);
  session.viewListeners.add((event) => {
    if (taskOf(event) === id) redraw();
  });
}
