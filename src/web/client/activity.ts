import type { TeamEvent } from './api.js';
import { h, replace, when } from './dom.js';
import type { Session } from './state.js';
import { KEEP_EVENTS } from './state.js';

export function eventRow(event: TeamEvent): HTMLElement {
  return h(
    'li',
    { 'data-seq': event.seq },
    h('time', { datetime: event.created_at }, when(event.created_at)),
    ' ',
    h('span', { class: 'tag' }, event.type),
    ' ',
    h('span', { class: 'agent' }, event.agent_id),
    ' ',
    h('span', { class: 'text' }, event.message),
  );
}

/**
 * The live activity feed: what `/events` has carried since sign-in, newest first, growing as events arrive (no
 * reload), filtered by agent and type.
 */
export function renderActivity(session: Session, view: HTMLElement): void {
  const agent = h('input', { type: 'search', 'aria-label': 'Filter by agent', placeholder: 'agent' });
  const type = h('input', { type: 'search', 'aria-label': 'Filter by type', placeholder: 'type (e.g. task_)' });
  const list = h('ol', { class: 'activity', 'aria-live': 'polite' });
  const matches = (event: TeamEvent) => (!agent.value || event.agent_id.includes(agent.value.trim())) && (!type.value || event.type.includes(type.value.trim()));
  const draw = () => replace(list, session.events.filter(matches).reverse().map(eventRow));
  agent.addEventListener('input', draw);
  type.addEventListener('input', draw);
  replace(
    view,
    h('h2', {}, 'Live activity'),
    h('div', { class: 'filters' }, agent, type),
    h('p', { class: 'muted' }, 'Events since you signed in, as they happen (older ones: the audit log).'),
    list,
  );
  draw();
  session.viewListeners.add((event) => {
    if (!matches(event)) return;
    list.prepend(eventRow(event));
    while (list.childElementCount > KEEP_EVENTS) list.lastElementChild!.remove();
  });
}
