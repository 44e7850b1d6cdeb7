import { field, h, replace, when } from './dom.js';
import { renderMarkdown } from './markdown.js';
import type { Agent, Session } from './state.js';
import { act, all, coalesce } from './state.js';

interface Run {
  id: string;
  status: string;
  /** Why it ran: the wake reasons the runner gathered (a mention, a manual wake, the schedule …). */
  reasons: { kind: string; by?: string }[];
  queued_at: string;
  started_at: string;
  ended_at: string;
  exit_code: number | null;
  output: string;
  stderr: string;
  error: string;
}

const agentPath = (id: string) => `/agents/${encodeURIComponent(id)}`;

/** Start, stop and wake now: each one call; a refusal (an agent's role, a mid-level agent waking another) shows. */
function controls(session: Session, agent: Agent, after: () => void): HTMLElement {
  const call = (what: 'start' | 'stop' | 'wake', done: string) =>
    h('button', { type: 'button', onclick: () => void act(() => session.api.post(`${agentPath(agent.id)}/${what}`), done).then((ok) => ok && after()) }, what === 'wake' ? 'Wake now' : what[0]!.toUpperCase() + what.slice(1));
  return h('span', { class: 'controls' }, call('start', `${agent.id} started`), call('stop', `${agent.id} stopped`), call('wake', `${agent.id}: wake requested`));
}

function facts(agent: Agent): HTMLElement {
  return h(
    'div',
    { class: 'meta' },
    field('status', agent.status),
    field('liveness', h('span', { class: `liveness ${agent.liveness}` }, agent.liveness)),
    field('level', agent.level),
    agent.role && field('role', agent.role),
    agent.current_task_id && field('on', h('a', { href: `#/task/${encodeURIComponent(agent.current_task_id)}` }, agent.current_task_id)),
    field('last heartbeat', when(agent.last_heartbeat_at)),
    field('next heartbeat', when(agent.next_heartbeat_at)),
  );
}

/** Every agent of the team, its status and liveness at a glance, with its controls. */
export async function renderAgents(session: Session, view: HTMLElement): Promise<void> {
  const draw = async () => {
    const agents = await all<Agent>(session.api, '/agents', 'agents');
    replace(
      view,
      h('h2', {}, 'Agents'),
      h(
        'ul',
        { class: 'agents' },
        agents.map((agent) => h('li', { class: 'card', 'data-agent': agent.id }, h('a', { class: 'title', href: `#/agent/${encodeURIComponent(agent.id)}` }, agent.name), ' ', h('span', { class: 'muted' }, agent.id), facts(agent), controls(session, agent, () => void draw()))),
      ),
    );
  };
  await draw();
  const redraw = coalesce(draw);
  session.viewListeners.add((event) => {
    if (event.type.startsWith('agent_') || event.type.startsWith('working_')) redraw();
  });
}

/** One agent: its facts, its working state (WORKING.md, rendered) and its recent runs with their output. */
export async function renderAgent(session: Session, view: HTMLElement, id: string): Promise<void> {
  const draw = async () => {
    const [agent, working, runs] = await Promise.all([
      session.api.get<Agent>(agentPath(id)),
      session.api.get<{ markdown: string; updated_at: string }>(`${agentPath(id)}/working`),
      session.api.get<{ runs: Run[] }>(`${agentPath(id)}/runs`, { limit: 10 }),
    ]);
    replace(
      view,
      h('p', {}, h('a', { href: '#/agents' }, '← Agents')),
      h('h2', {}, agent.name),
      facts(agent),
      controls(session, agent, () => void draw()),
      h('section', { class: 'working', 'aria-label': 'Working state' }, h('h3', {}, 'Working state ', h('span', { class: 'muted' }, when(working.updated_at))), renderMarkdown(working.markdown)),
      h(
        'section',
        {},
        h('h3', {}, 'Recent runs'),
        runs.runs.length === 0
          ? h('p', { class: 'muted' }, 'No runs yet.')
          : h(
              'ol',
              { class: 'runs' },
              runs.runs.map((run) =>
                h(
                  'li',
                  {},
                  h('div', { class: 'meta' }, h('span', { class: 'tag' }, run.status), field('queued', when(run.queued_at)), field('ended', when(run.ended_at)), run.exit_code !== null && field('exit', String(run.exit_code)), run.reasons.length > 0 && field('why', run.reasons.map((r) => (r.by ? `${r.kind} by ${r.by}` : r.kind)).join(', '))),
                  run.error && h('p', { class: 'error' }, run.error),
                  run.output && h('details', {}, h('summary', {}, 'Output'), h('pre', {}, run.output)),
                  run.stderr && h('details', {}, h('summary', {}, 'Stderr'), h('pre', {}, run.stderr)),
                ),
              ),
            ),
      ),
    );
  };
  await draw();
  const redraw = coalesce(draw);
  session.viewListeners.add((event) => {
    if (event.related_id === id || event.data?.agent_id === id) redraw();
  });
}
