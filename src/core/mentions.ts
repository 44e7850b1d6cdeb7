/**
 * The agent ids @mentioned in `content`, each once, in order of first mention. A mention is `@` followed by an id
 * (letters, digits, hyphens), not preceded by a word character — so `bob@jarvis.dev` is an address, not a
 * mention — and surrounding punctuation is ignored: `(@jarvis)`, `@jarvis's`, `@jarvis,` all name `jarvis`.
 * Only ids in `known` count (the agents of the team).
 */
export function parseMentions(content: string, known: ReadonlySet<string>): string[] {
  const found: string[] = [];
  for (const match of content.matchAll(/(?<![\w.%+@-])@([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)/gi)) {
    const id = match[1]!.toLowerCase();
    if (known.has(id) && !found.includes(id)) found.push(id);
  }
  return found;
}
