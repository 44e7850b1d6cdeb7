import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpSession } from '../helpers.js';
import { spawnSession, tempDbPath } from '../helpers.js';
import { startServer } from '../http/helpers.js';
import type { HttpServer } from '../http/helpers.js';
import { launchChromium, rest, screenshot, signIn } from './browser.js';

/**
 * The dashboard in a real browser (Debian's Chromium) against `serve --http` on a SQLite file that agents' own stdio
 * servers — other processes, through the SDK's MCP client — write to at the same time.
 */
describe('the web dashboard', () => {
  let server: HttpServer;
  let browser: Browser;
  let owner: McpSession;
  let jarvis: McpSession;
  let loki: McpSession;
  let ownerToken: string;
  let lokiToken: string;

  beforeAll(async () => {
    const db = tempDbPath();
    owner = await spawnSession(db, { persistent: true });
    await owner.call('team_manage', { action: 'create', name: 'Engineering' });
    await owner.call('team_agent', { action: 'create', name: 'Jarvis', level: 'lead' });
    await owner.call('team_agent', { action: 'create', name: 'Loki' });
    ownerToken = (await owner.call('team_agent', { action: 'token_create', owner: true })).token;
    lokiToken = (await owner.call('team_agent', { action: 'token_create', agent_id: 'loki' })).token;
    [jarvis, loki] = await Promise.all([spawnSession(db, { agent: 'jarvis', persistent: true }), spawnSession(db, { agent: 'loki', persistent: true })]);
    server = await startServer(db);
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const session of [owner, jarvis, loki]) await session?.close();
    await server?.stop();
  });

  /** A page that records every dialog and every request, to show that nothing ran and nothing left the server. */
  async function openPage(width = 1280): Promise<{ page: Page; dialogs: string[]; requests: string[] }> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const dialogs: string[] = [];
    const requests: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('request', (request) => requests.push(request.url()));
    return { page, dialogs, requests };
  }

  const card = (page: Page, taskId: string) => page.locator(`li[data-task="${taskId}"]`);
  const column = (page: Page, status: string) => page.locator(`section[data-status="${status}"]`);

  it('is served with a strict Content-Security-Policy and loads nothing from elsewhere', async () => {
    const response = await fetch(`${server.url}/`);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    const { page, requests } = await openPage();
    await signIn(page, server.url, ownerToken);
    expect(requests.filter((url) => !url.startsWith(server.url))).toEqual([]);
    await page.close();
  });

  it('answers a hand-typed address that is not valid percent-encoding with an error, and the next page still opens', async () => {
    const { page } = await openPage();
    await signIn(page, server.url, ownerToken);
    await page.evaluate(() => (location.hash = '#/task/%E0'));
    await page.locator('#view .error', { hasText: 'This view could not be loaded.' }).waitFor();
    await page.evaluate(() => (location.hash = '#/standup'));
    await page.getByRole('heading', { level: 2, name: /standup/i }).waitFor();
    await page.close();
  });

  it('refuses a wrong token at sign-in and says why', async () => {
    const { page } = await openPage();
    await page.goto(server.url);
    await page.getByLabel('Token').fill('tt_not-a-real-token-at-all-but-long-enough-to-look');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.locator('.signin .error').textContent()).resolves.toContain('UNAUTHENTICATED');
    await page.close();
  });

  it('shows a task created over MCP by another process without a reload, moves it, and opens its detail', async () => {
    const { page } = await openPage();
    await signIn(page, server.url, ownerToken);
    await screenshot(page, 'board-signed-in');
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));

    const task = await jarvis.call('team_task', { action: 'create', title: 'Implement authentication', assignees: ['loki'], labels: ['backend'], priority: 2 });
    const subtask = await jarvis.call('team_task', { action: 'create', title: 'Write the login form', parent_id: task.id });
    await card(page, subtask.id).waitFor();
    // The parent's card counts its subtask once that one's event has arrived too.
    const parent = column(page, 'assigned').locator(`li[data-task="${task.id}"]`, { hasText: '0/1' });
    await parent.waitFor();
    await expect(parent.textContent()).resolves.toMatch(/Implement authentication.*loki.*backend/s);
    await screenshot(page, 'board-live-task');

    await card(page, task.id).getByRole('combobox').selectOption('in_progress');
    await card(page, task.id).getByRole('button', { name: 'Move' }).click();
    await column(page, 'in_progress').locator(`li[data-task="${task.id}"]`).waitFor();
    expect((await rest(server.url, ownerToken, `/tasks/${task.id}`)).status).toBe('in_progress');
    expect(navigations.filter((url) => !url.includes('#'))).toEqual([]);
    await screenshot(page, 'board-moved');

    await card(page, task.id).getByRole('link', { name: 'Implement authentication' }).click();
    await page.locator('.task-detail').waitFor();
    await expect(page.locator('.task-detail h2').textContent()).resolves.toBe('Implement authentication');
    await expect(page.locator('.feed').textContent()).resolves.toMatch(/created.*assigned.*in_progress/s);
    // A comment posted by an agent's own process appears in the open detail.
    await loki.call('team_comm', { action: 'comment', task_id: task.id, content: 'started on **the token check**' });
    await page.locator('.feed strong', { hasText: 'the token check' }).waitFor();
    // And one posted from the page reaches the agents.
    await page.getByLabel('Comment (@id mentions)').fill('@loki thanks');
    await page.getByRole('button', { name: 'Comment' }).click();
    await page.locator('.feed li', { hasText: '@loki thanks' }).waitFor();
    const mail = await loki.call('team_comm', { action: 'inbox' });
    expect(mail.messages.map((m: { content: string }) => m.content)).toContain('@loki thanks');
    await screenshot(page, 'task-detail');
    await page.close();
  });

  it('keeps up with a burst of tasks from another process', async () => {
    const { page } = await openPage();
    await signIn(page, server.url, ownerToken);
    const created = await Promise.all(Array.from({ length: 60 }, (_, i) => loki.call('team_task', { action: 'create', title: `Burst ${i}`, labels: ['burst'] })));
    for (const task of created) await card(page, task.id).waitFor();
    await expect(page.locator('li[data-task]', { hasText: 'burst' }).count()).resolves.toBe(60);
    await page.close();
  });

  it('assigns, and as the reviewer requests changes then approves, from the task page', async () => {
    const task = await owner.call('team_task', { action: 'create', title: 'Harden the session cookie', reviewer: 'jarvis' });
    const jarvisToken = (await owner.call('team_agent', { action: 'token_create', agent_id: 'jarvis' })).token;
    const { page } = await openPage();
    await signIn(page, server.url, jarvisToken);
    await page.goto(`${server.url}/#/task/${task.id}`);
    await page.getByLabel('Assignees (agent ids, comma separated)').fill('loki');
    await page.getByRole('button', { name: 'Assign' }).click();
    await page.locator('.task-detail .meta', { hasText: 'assignees loki' }).waitFor();
    await loki.call('team_task', { action: 'claim', task_id: task.id });
    await loki.call('team_task', { action: 'update', task_id: task.id, status: 'review' });
    await page.getByLabel('What to change').fill('set SameSite=strict too');
    await page.getByRole('button', { name: 'Request changes' }).click();
    await page.locator('.task-detail .meta', { hasText: 'status in_progress' }).waitFor();
    await loki.call('team_task', { action: 'update', task_id: task.id, status: 'review' });
    await page.getByLabel('Resolution (optional)').fill('looks right');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.locator('.task-detail .meta', { hasText: 'status done' }).waitFor();
    const done = await rest(server.url, ownerToken, `/tasks/${task.id}`);
    expect(done).toMatchObject({ status: 'done', assignees: ['loki'] });
    expect(done.feed.map((item: { text: string }) => item.text).join('\n')).toMatch(/SameSite=strict[\s\S]*looks right/);
    await screenshot(page, 'task-approved');
    await page.close();
  });

  it("reads an agent's working state, rendered", async () => {
    await loki.call('team_agent', { action: 'working_update', status: 'working', next_steps: '**ship** the login form', context: 'see `auth.ts`' });
    const { page } = await openPage();
    await signIn(page, server.url, ownerToken);
    await page.getByRole('link', { name: 'Agents' }).click();
    await page.getByRole('link', { name: 'Loki' }).click();
    const working = page.locator('section.working');
    await working.locator('strong', { hasText: 'ship' }).waitFor();
    await expect(working.locator('code').textContent()).resolves.toBe('auth.ts');
    await screenshot(page, 'agent-working-state');
    await page.close();
  });

  it("wakes an agent from its page, and shows the run's output", async () => {
    await owner.call('team_agent', { action: 'update', agent_id: 'loki', wake_adapter: { type: 'command', command: ['sh', '-c', 'echo checked the mail'] } });
    const { page } = await openPage();
    await signIn(page, server.url, ownerToken);
    await page.goto(`${server.url}/#/agent/loki`);
    await page.getByRole('button', { name: 'Wake now' }).click();
    await page.locator('#notice .info', { hasText: 'loki: wake requested' }).waitFor();
    // The server's runner runs the command; its output is in the run once it ended.
    await expect.poll(async () => (await rest(server.url, ownerToken, '/agents/loki/runs')).runs[0]?.status, { timeout: 30_000 }).toBe('succeeded');
    await page.reload();
    await page.locator('.runs li', { hasText: 'manual by ana' }).getByText('Output').click();
    await page.locator('.runs pre', { hasText: 'checked the mail' }).waitFor();
    await screenshot(page, 'agent-woken');
    await page.close();
  });

  it('is usable from the keyboard: tab to a card, open it, act', async () => {
    const task = await jarvis.call('team_task', { action: 'create', title: 'Keyboard reachable' });
    const { page } = await openPage();
    await signIn(page, server.url, ownerToken);
    await card(page, task.id).waitFor();
    const focusedTask = () => page.evaluate(() => (document.activeElement?.closest('li[data-task]') as HTMLElement | null)?.dataset.task);
    for (let i = 0; i < 200 && (await focusedTask()) !== task.id; i++) await page.keyboard.press('Tab');
    expect(await focusedTask()).toBe(task.id);
    await page.keyboard.press('Enter');
    await page.locator('.task-detail h2', { hasText: 'Keyboard reachable' }).waitFor();
    await page.getByLabel('Comment (@id mentions)').focus();
    await page.keyboard.type('typed without a mouse');
    await page.keyboard.press('Tab'); // the comment type
    await page.keyboard.press('Tab'); // the button
    await page.keyboard.press('Enter');
    await page.locator('.feed li', { hasText: 'typed without a mouse' }).waitFor();
    await page.close();
  });

  it('searches', async () => {
    await jarvis.call('team_memory', { action: 'doc_create', title: 'Rollout plan', content: 'We ship the zeppelin feature on Friday.' });
    const { page } = await openPage();
    await signIn(page, server.url, ownerToken);
    await page.getByLabel('Search', { exact: true }).fill('zeppelin');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('.hits li', { hasText: 'Rollout plan' }).waitFor();
    await expect(page.locator('.hits mark').first().textContent()).resolves.toBe('zeppelin');
    await screenshot(page, 'search');
    await page.close();
  });

  it('shows titles with markup as the text they are: nothing runs, no element appears', async () => {
    const titles = ['<script>window.__pwned = 1; alert("script")</script>', '<img src=x onerror="window.__pwned = 2; alert(\'img\')">'];
    const tasks = [];
    for (const title of titles) tasks.push(await jarvis.call('team_task', { action: 'create', title, description: title }));
    await jarvis.call('team_comm', { action: 'comment', task_id: tasks[1].id, content: titles[0] });
    const { page, dialogs } = await openPage();
    await signIn(page, server.url, ownerToken);
    for (const [i, task] of tasks.entries()) await expect(card(page, task.id).locator('a.title').textContent()).resolves.toBe(titles[i]);
    await page.getByText(titles[1], { exact: true }).first().waitFor();
    await card(page, tasks[1].id).locator('a.title').click();
    await page.locator('.feed li', { hasText: '<script>' }).waitFor();
    await expect(page.locator('.task-detail h2').textContent()).resolves.toBe(titles[1]);
    await screenshot(page, 'markup-as-text');
    expect(await page.evaluate(() => ({ pwned: (window as { __pwned?: number }).__pwned, images: document.querySelectorAll('main img').length, scripts: document.querySelectorAll('main script').length }))).toEqual({ pwned: undefined, images: 0, scripts: 0 });
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it('shows live activity without a reload, filtered by agent and type', async () => {
    const { page } = await openPage();
    await signIn(page, server.url, ownerToken);
    await page.getByRole('link', { name: 'Activity' }).click();
    await page.getByLabel('Filter by agent').fill('loki');
    await jarvis.call('team_memory', { action: 'fact_save', key: 'deploy/url', value: 'https://staging.example', namespace: 'ops', ttl: 3600 });
    await loki.call('team_memory', { action: 'fact_save', key: 'build/status', value: 'green' });
    await page.locator('.activity li', { hasText: 'build/status' }).waitFor();
    await expect(page.locator('.activity li', { hasText: 'deploy/url' }).count()).resolves.toBe(0);
    await page.getByLabel('Filter by agent').fill('');
    await page.getByLabel('Filter by type').fill('fact_');
    await page.locator('.activity li', { hasText: 'deploy/url' }).waitFor();
    await screenshot(page, 'activity');
    await page.close();
  });

  it('opens every other view: mail, facts, documents, notifications, standup, audit', async () => {
    await jarvis.call('team_comm', { action: 'send_message', to_agent: 'loki', content: 'the **staging** deploy is ready' });
    await jarvis.call('team_comm', { action: 'notify', type: 'task_progress', message: 'halfway through the migration' });
    const notes = await jarvis.call('team_memory', { action: 'doc_create', title: 'Release notes', content: `# 1.0\n- the dashboard\n\n${'変更履歴の行。\n'.repeat(30_000)}\nThe **last** line.` });
    const { page } = await openPage();
    await signIn(page, server.url, ownerToken);
    const views: [string, string, string][] = [
      ['Mail', '#/mail/loki', 'staging'],
      ['Facts', '#/facts', 'deploy/url'],
      ['Documents', '#/docs', 'Release notes'],
      ['Notifications', '#/notifications', 'halfway through the migration'],
      ['Standup', '#/standup', 'In progress'],
      ['Audit', '#/audit', 'agent_created'],
      ['Agents', '#/agents', 'Jarvis'],
    ];
    for (const [name, hash, text] of views) {
      await page.goto(`${server.url}/${hash}`);
      // The view's own heading first: the previous view may hold the same text (the audit log names every agent).
      await page.locator('main h2', { hasText: new RegExp(`^${name}`) }).waitFor();
      await page.locator('main', { hasText: text }).waitFor();
      await expect(page.locator('main .error').count(), name).resolves.toBe(0);
      await screenshot(page, `view-${name.toLowerCase()}`);
    }
    // A document longer than one answer (512 KB of JSON) is read in parts, to its end.
    expect((await rest(server.url, ownerToken, `/documents/${notes.id}`)).content_next_offset).toBeGreaterThan(0);
    await page.goto(`${server.url}/#/doc/${notes.id}`);
    await page.locator('main .markdown strong', { hasText: 'last' }).waitFor();
    await page.close();
  });

  it("shows an agent's refusal and changes nothing", async () => {
    const task = await owner.call('team_task', { action: 'create', title: 'Review the schema', assignees: ['loki'], reviewer: 'jarvis' });
    await owner.call('team_task', { action: 'update', task_id: task.id, status: 'in_progress' });
    await owner.call('team_task', { action: 'update', task_id: task.id, status: 'review' });
    const { page } = await openPage(390);
    await signIn(page, server.url, lokiToken);
    await expect(page.locator('#who').textContent()).resolves.toBe('agent loki');
    await card(page, task.id).getByRole('combobox').selectOption('done');
    await card(page, task.id).getByRole('button', { name: 'Move' }).click();
    await expect(page.locator('#notice .error').textContent()).resolves.toMatch(/^PERMISSION_DENIED: .*review/);
    await expect(card(page, task.id).getByRole('combobox').inputValue()).resolves.toBe('review');
    await screenshot(page, 'agent-refused-phone');
    expect((await rest(server.url, ownerToken, `/tasks/${task.id}`)).status).toBe('review');
    await expect(column(page, 'review').locator(`li[data-task="${task.id}"]`).count()).resolves.toBe(1);

    await page.goto(`${server.url}/#/agents`);
    await page.locator('li[data-agent="jarvis"]').getByRole('button', { name: 'Wake now' }).click();
    await page.locator('#notice .error', { hasText: "PERMISSION_DENIED: agent 'loki' may not wake an agent" }).waitFor();
    expect((await rest(server.url, ownerToken, '/agents/jarvis/runs')).runs).toEqual([]);
    await page.close();
  });
});
