import { field, h, replace, when } from './dom.js';
import type { Child } from './dom.js';
import type { Session } from './state.js';

interface Hit {
  kind: string;
  id: string;
  title: string;
  snippet: string;
  highlights: [number, number][];
  author: string;
  to_agent: string;
  task_id: string;
  at: string;
}

/** The snippet with its matched ranges in <mark>, each piece a text node. */
function highlighted(snippet: string, ranges: [number, number][]): Child[] {
  const out: Child[] = [];
  let at = 0;
  for (const [start, end] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (start < at) continue;
    out.push(snippet.slice(at, start), h('mark', {}, snippet.slice(start, end)));
    at = end;
  }
  out.push(snippet.slice(at));
  return out;
}

/** Full-text search (`GET /search`): messages, comments, tasks, documents and facts the token may see, best first. */
export async function renderSearch(session: Session, view: HTMLElement, query: string): Promise<void> {
  if (!query.trim()) return replace(view, h('h2', {}, 'Search'), h('p', { class: 'muted' }, 'Type in the search box above.'));
  const { hits } = await session.api.get<{ hits: Hit[] }>('/search', { query, limit: 50 });
  replace(
    view,
    h('h2', {}, 'Search: ', h('q', {}, query)),
    hits.length === 0
      ? h('p', { class: 'muted' }, 'Nothing found.')
      : h(
          'ol',
          { class: 'hits' },
          hits.map((hit) =>
            h(
              'li',
              { class: 'card' },
              h('div', { class: 'meta' }, h('span', { class: 'tag' }, hit.kind), hit.title && h('strong', {}, hit.title), hit.author && field('by', hit.author), hit.to_agent && field('to', hit.to_agent), h('time', { datetime: hit.at }, when(hit.at))),
              h('p', {}, highlighted(hit.snippet, hit.highlights)),
              hit.task_id && h('a', { href: `#/task/${encodeURIComponent(hit.task_id)}` }, `task ${hit.task_id}`),
            ),
          ),
        ),
  );
}
