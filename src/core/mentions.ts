/**
 * The agent ids @mentioned in `content`, each once, in order of first mention. A mention is `@` followed by an id
 * (letters, digits, hyphens), not preceded by a word character — so `bob@jarvis.dev` is an address, not a
 * mention — and surrounding punctuation is ignored: `(@jarvis)`, `@jarvis's`, `@jarvis,` all name `jarvis`.
 * Ids in `agents` (the agents of the team) are `known`; the others are `unknown`, reported back to the author.
 */
export function parseMentions(content: string, agents: ReadonlySet<string>): { known: string[]; unknown: string[] } {
  const known: string[] = [];
  const unknown: string[] = [];
  for (const match of content.matchAll(/(?<![\w.%+@-])@([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)/gi)) {
    const id = match[1]!.toLowerCase();
    const list = agents.has(id) ? known : unknown;
    if (!list.includes(id)) list.push(id);
  }
  return { known, unknown };
}
