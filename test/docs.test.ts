import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderReference } from '../src/mcp/reference.js';

describe('docs/tools.md', () => {
  it('matches the code (run `npm run docs` after changing an action)', () => {
    expect(readFileSync(new URL('../docs/tools.md', import.meta.url), 'utf8')).toBe(renderReference());
  });
});

describe('README', () => {
  it('shows client configs that work as pasted: the built CLI of the checkout, as `start` prints them (the package is not published)', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).not.toMatch(/npx -y team-table/);
    const { clientConfigs } = await import('../src/cli/clientConfig.js');
    const printed = clientConfigs('/path/to/team.db', [{ id: 'aaaa1111', name: 'Engineering' }], [{ id: 'jarvis', team: 'Engineering' }]);
    // the README's entries have the shape `start` prints: node, then the CLI's main.js, then serve
    expect(printed).toMatch(/claude mcp add team-table-jarvis -- \S*node\S* \S+\/cli\/main\.js serve --db \/path\/to\/team\.db --agent jarvis/);
    expect(readme).toMatch(/claude mcp add team-table-jarvis -- \/usr\/bin\/node \/path\/to\/team-table\/dist\/cli\/main\.js serve --db \/path\/to\/team\.db --agent jarvis/);
    expect(readme).toMatch(/npm link/);
  });
});
