import type { TeamEvent } from './api.js';
import { ApiError } from './api.js';
import { field, h, replace, when } from './dom.js';
import type { Session, Task } from './state.js';
import { STATUSES, act, all, coalesce, showError } from './state.js';

/** More changed tasks than this at once (a burst of events): the list is read again instead of each task. */
const MANY_CHANGES = 20;

/** The task an event is about, if any: task events name it in related_id, comments and mail in data.task_id. */
export function taskOf(event: TeamEvent): string | undefined {
  const fromData = typeof event.data?.task_id === 'string' && event.data.task_id ? event.data.task_id : undefined;
  return fromData ?? (event.type.startsWith('task_') ? event.related_id : undefined);
}

const byPriority = (a: Task, b: Task) => a.priority - b.priority || a.id.localeCompare(b.id);

/** A select of the statuses and a button: moving a task is one `PATCH /tasks/{id}` with the version seen. */
export function moveControl(session: Session, task: Task, after: () => void): HTMLElement {
  const select = h('select', { 'aria-label': `New status for ${task.title}` }, STATUSES.map((s) => h('option', { value: s, selected: s === task.status }, s)));
  const move = async () => {
    const moved = await act(() => session.api.post(`/tasks/${task.id}`, { status: select.value, expected_version: task.version }, 'PATCH'));
    // Refused: the select goes back to where the task still is.
    if (moved) after();
    else select.value = task.status;
  };
  return h('span', { class: 'move' }, select, h('button', { type: 'button', onclick: () => void move() }, 'Move'));
}

/**
 * The board: every task of the team in its status column, kept current from the event feed — an event about a
 * task re-reads that task (`GET /tasks/{id}`) and moves or redraws its card; nothing reloads.
 */
export class Board {
  readonly tasks = new Map<string, Task>();
  /** Subtasks by parent id, rebuilt with each full render (a card's progress bar reads it). */
  private children = new Map<string, Task[]>();
  private root: HTMLElement | undefined;
  /** Tasks events named since the last re-read; read together, or the whole list again when there are many. */
  private readonly pending = new Set<string>();
  private readonly flush = coalesce(async () => {
    const ids = [...this.pending];
    this.pending.clear();
    if (ids.length > MANY_CHANGES) await this.reload();
    else await Promise.all(ids.map((id) => this.refresh(id)));
  });
  private loaded: Promise<void> | undefined;

  constructor(private readonly session: Session) {
    session.listeners.add((event) => {
      const id = taskOf(event);
      if (!id) return;
      this.pending.add(id);
      this.flush();
    });
  }

  load(): Promise<void> {
    return (this.loaded ??= all<Task>(this.session.api, '/tasks', 'tasks').then(
      (tasks) => {
        // An event's re-read may have landed while the list was read: keep whichever is newer.
        for (const task of tasks) if ((this.tasks.get(task.id)?.version ?? 0) <= task.version) this.tasks.set(task.id, task);
      },
      (error) => {
        // A failed read is tried again by the next visit, not remembered.
        this.loaded = undefined;
        throw error;
      },
    ));
  }

  /**
   * The stream starts at the present, so a change between reading the list and the stream's (re)connection would be
   * missed: when the stream connects after the list was read, the list is read again.
   */
  resync(): void {
    if (this.loaded) void this.reload().catch(showError);
  }

  private async reload(): Promise<void> {
    this.loaded = undefined;
    this.tasks.clear();
    const view = this.root?.parentElement;
    if (view && this.root?.isConnected) await this.render(view);
    else await this.load();
  }

  async render(view: HTMLElement): Promise<void> {
    await this.load();
    this.indexChildren();
    const columns = STATUSES.map((status) => {
      const tasks = [...this.tasks.values()].filter((t) => t.status === status).sort(byPriority);
      return h(
        'section',
        { class: 'column', 'data-status': status, 'aria-labelledby': `col-${status}` },
        h('h2', { id: `col-${status}` }, status.replace('_', ' '), ' ', h('span', { class: 'count' }, String(tasks.length))),
        h('ol', { class: 'cards' }, tasks.map((t) => this.card(t))),
      );
    });
    this.root = h('div', { class: 'board', id: 'board' }, columns);
    replace(view, this.root);
    // What the board benchmark reads (bench/scenarios/dashboard-load.mjs): the board in the DOM, then on screen (the
    // task after the next frame runs once that frame is painted).
    performance.mark('board-rendered');
    requestAnimationFrame(() => setTimeout(() => performance.mark('board-painted')));
  }

  /** Re-reads one task after an event and redraws its card where it now belongs (or removes it). */
  async refresh(id: string): Promise<void> {
    let task: Task | undefined;
    try {
      task = await this.session.api.get<Task>(`/tasks/${id}`);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) return showError(error);
    }
    if (task) this.tasks.set(id, task);
    else this.tasks.delete(id);
    if (!this.root?.isConnected) return;
    this.indexChildren();
    this.root.querySelector(`li[data-task="${CSS.escape(id)}"]`)?.remove();
    if (task?.parent_id) this.redrawCard(task.parent_id);
    if (!task) return;
    const column = this.root.querySelector(`section[data-status="${task.status}"]`);
    const list = column?.querySelector('ol');
    if (!column || !list) return;
    const card = this.card(task);
    const next = [...list.children].find((li) => byPriority(this.tasks.get((li as HTMLElement).dataset.task!)!, task) > 0);
    list.insertBefore(card, next ?? null);
    for (const section of this.root.querySelectorAll('section.column')) {
      section.querySelector('.count')!.textContent = String(section.querySelectorAll('li[data-task]').length);
    }
  }

  private redrawCard(id: string): void {
    const old = this.root?.querySelector(`li[data-task="${CSS.escape(id)}"]`);
    const task = this.tasks.get(id);
    if (old && task) old.replaceWith(this.card(task));
  }

  private indexChildren(): void {
    this.children.clear();
    for (const task of this.tasks.values()) if (task.parent_id) this.children.set(task.parent_id, [...(this.children.get(task.parent_id) ?? []), task]);
  }

  private card(task: Task): HTMLElement {
    const children = this.children.get(task.id) ?? [];
    const done = children.filter((t) => t.status === 'done').length;
    const leased = task.claimed_by ? `${task.claimed_by} until ${when(task.lease_expires_at)}` : '';
    return h(
      'li',
      { class: `card p${task.priority}`, 'data-task': task.id },
      h('a', { class: 'title', href: `#/task/${encodeURIComponent(task.id)}` }, task.title),
      h(
        'div',
        { class: 'meta' },
        field('P', String(task.priority)),
        task.assignees.length > 0 && field('to', task.assignees.join(', ')),
        leased && field('held by', leased),
        task.reviewer && field('reviewer', task.reviewer),
        task.labels.length > 0 && h('span', { class: 'labels' }, task.labels.map((l) => h('span', { class: 'tag' }, l))),
        task.blocked_by.length > 0 && field('after', task.blocked_by.join(', ')),
        task.waiting_on.length > 0 && field('waiting on', task.waiting_on.join(', ')),
        children.length > 0 && field('subtasks', h('span', {}, h('progress', { max: children.length, value: done }), ` ${done}/${children.length}`)),
      ),
      moveControl(this.session, task, () => void this.refresh(task.id)),
    );
  }
}
