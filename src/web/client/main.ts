import { renderActivity } from './activity.js';
import { renderAgent, renderAgents } from './agents.js';
import { Api, ApiError } from './api.js';
import type { Me } from './api.js';
import { Board } from './board.js';
import { h, replace } from './dom.js';
import { renderAudit, renderDoc, renderDocs, renderFacts, renderMail, renderNotifications, renderStandup } from './panels.js';
import { renderSearch } from './search.js';
import type { Session } from './state.js';
import { KEEP_EVENTS, showError } from './state.js';
import { renderTask } from './task.js';

/**
 * The dashboard's entry point: sign-in with a token (kept in sessionStorage, so it ends with the tab), then a
 * hash-routed page per view over the REST API, with one `/events` stream feeding the live parts.
 */

const TOKEN_KEY = 'team-table.token';
const TEAM_KEY = 'team-table.team';

const $ = (id: string) => document.getElementById(id)!;

function signInForm(message?: string): void {
  $('app').hidden = true;
  const token = h('input', { id: 'token', type: 'password', autocomplete: 'off', required: true, 'aria-describedby': 'token-help', placeholder: 'tt_…' });
  const form = h(
    'form',
    {
      class: 'signin',
      onsubmit: (event: Event) => {
        event.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, token.value.trim());
        void boot();
      },
    },
    h('h1', {}, 'team-table'),
    h('label', { for: 'token' }, 'Token'),
    token,
    h('p', { id: 'token-help', class: 'muted' }, "The owner's token (printed by `team-table start`) or an agent's (`team-table token create --agent ID`). Kept for this tab only."),
    message && h('p', { class: 'error', role: 'alert' }, message),
    h('button', { type: 'submit' }, 'Sign in'),
  );
  replace($('signin'), form);
  $('signin').hidden = false;
  token.focus();
}

async function boot(): Promise<void> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return signInForm();
  const api = new Api(token);
  let me: Me;
  try {
    me = await api.get<Me>('/me');
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    return signInForm(error instanceof ApiError ? `${error.code}: ${error.message}` : String(error));
  }
  if (me.kind === 'owner') {
    const { teams } = await api.get<{ teams: { id: string; name: string }[] }>('/teams');
    const chosen = teams.find((t) => t.id === sessionStorage.getItem(TEAM_KEY)) ?? teams[0];
    api.teamId = chosen?.id;
    const picker = h(
      'select',
      { 'aria-label': 'Team', onchange: (event: Event) => (sessionStorage.setItem(TEAM_KEY, (event.target as HTMLSelectElement).value), location.reload()) },
      teams.map((t) => h('option', { value: t.id, selected: t.id === chosen?.id }, t.name)),
    );
    replace($('team'), picker);
  }
  replace($('who'), `${me.kind === 'owner' ? 'owner' : 'agent'} ${me.id}`);
  $('signin').hidden = true;
  $('app').hidden = false;

  let markConnected = () => {};
  const firstConnection = new Promise<void>((resolve) => (markConnected = resolve));
  const session: Session = { api, me, events: [], head: 0, connected: firstConnection, listeners: new Set(), viewListeners: new Set() };
  const board = new Board(session);
  const stop = new AbortController();
  $('signout').onclick = () => {
    stop.abort();
    sessionStorage.removeItem(TOKEN_KEY);
    location.hash = '';
    location.reload();
  };
  void api.follow(
    (event) => {
      session.events.push(event);
      session.head = Math.max(session.head, event.seq);
      if (session.events.length > KEEP_EVENTS) session.events.splice(0, session.events.length - KEEP_EVENTS);
      for (const listener of [...session.listeners, ...session.viewListeners]) listener(event);
    },
    (connected, head) => {
      if (head !== undefined) session.head = Math.max(session.head, head);
      if (connected) markConnected();
      if (connected) board.resync();
      $('live').textContent = connected ? 'live' : 'reconnecting…';
      $('live').className = connected ? 'live on' : 'live off';
    },
    stop.signal,
  );
  const search = $('search-form') as HTMLFormElement;
  search.onsubmit = (event) => {
    event.preventDefault();
    location.hash = `#/search/${encodeURIComponent(($('search') as HTMLInputElement).value)}`;
  };

  const route = async () => {
    session.viewListeners.clear();
    const view = $('view');
    try {
      // Inside the try: a hand-typed hash that is not valid percent-encoding gets the error, not a blank page.
      const [name, arg, extra] = (location.hash.replace(/^#\/?/, '') || 'board').split('/').map(decodeURIComponent);
      for (const link of document.querySelectorAll('nav a')) {
        if (link.getAttribute('href') === `#/${name}`) link.setAttribute('aria-current', 'page');
        else link.removeAttribute('aria-current');
      }
      if (name === 'board') await board.render(view);
      else if (name === 'task' && arg) await renderTask(session, view, arg);
      else if (name === 'agents') await renderAgents(session, view);
      else if (name === 'agent' && arg) await renderAgent(session, view, arg);
      else if (name === 'activity') renderActivity(session, view);
      else if (name === 'search') await renderSearch(session, view, arg ?? '');
      else if (name === 'mail') await renderMail(session, view, arg);
      else if (name === 'facts') await renderFacts(session, view);
      else if (name === 'docs') await renderDocs(session, view);
      else if (name === 'doc' && arg) await renderDoc(session, view, arg, extra ? Number(extra) : undefined);
      else if (name === 'notifications') await renderNotifications(session, view);
      else if (name === 'standup') await renderStandup(session, view);
      else if (name === 'audit') await renderAudit(session, view);
      else replace(view, h('p', {}, 'No such page. ', h('a', { href: '#/board' }, 'Back to the board')));
    } catch (error) {
      replace(view, h('p', { class: 'error' }, 'This view could not be loaded.'));
      showError(error);
    }
    view.focus({ preventScroll: true });
  };
  window.onhashchange = () => void route();
  await route();
}

void boot();
