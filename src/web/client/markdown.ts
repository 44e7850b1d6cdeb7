import { h } from './dom.js';
import type { Child } from './dom.js';

/**
 * A small markdown renderer that builds DOM nodes from text: headings, paragraphs, lists, block quotes, fenced code,
 * `code`, **bold**, *italic* and [links](https://…). It never produces markup from the source, so nothing an agent
 * writes can become an element the renderer did not choose; links keep only http(s) and mailto targets. Chosen over
 * a library plus a sanitizer: WORKING.md, comments and documents use little markdown, and a renderer that cannot emit
 * raw HTML needs no sanitizer to trust.
 */
export function renderMarkdown(source: string): HTMLElement {
  const root = h('div', { class: 'markdown' });
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const fence = /^\s*(```|~~~)/.exec(line);
    if (fence) {
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i]!.trim().startsWith(fence[1]!); i++) code.push(lines[i]!);
      i++;
      root.append(h('pre', {}, h('code', {}, code.join('\n'))));
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const level = Math.min(6, heading[1]!.length + 2) as 3 | 4 | 5 | 6;
      root.append(h(`h${level}`, {}, inline(heading[2]!)));
      i++;
      continue;
    }
    if (/^\s*[-*+]\s+/.test(line) || /^\s*\d+[.)]\s+/.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const list = h(ordered ? 'ol' : 'ul');
      for (; i < lines.length && (ordered ? /^\s*\d+[.)]\s+/ : /^\s*[-*+]\s+/).test(lines[i]!); i++) {
        list.append(h('li', {}, inline(lines[i]!.replace(/^\s*(?:[-*+]|\d+[.)])\s+/, ''))));
      }
      root.append(list);
      continue;
    }
    if (/^\s*>/.test(line)) {
      const quoted: string[] = [];
      for (; i < lines.length && /^\s*>/.test(lines[i]!); i++) quoted.push(lines[i]!.replace(/^\s*>\s?/, ''));
      root.append(h('blockquote', {}, renderMarkdown(quoted.join('\n'))));
      continue;
    }
    if (!line.trim()) {
      i++;
      continue;
    }
    const paragraph: string[] = [];
    for (; i < lines.length && lines[i]!.trim() && !/^(#{1,6}\s|\s*([-*+]|\d+[.)])\s|\s*>|\s*(```|~~~))/.test(lines[i]!); i++) paragraph.push(lines[i]!);
    root.append(h('p', {}, inline(paragraph.join('\n'))));
  }
  return root;
}

const INLINE = /`([^`]+)`|\*\*(.+?)\*\*|__(.+?)__|\*([^*\s][^*]*?)\*|_([^_\s][^_]*?)_|\[([^\]]+)\]\(([^)\s]+)\)/;

/** Inline spans, as text nodes inside the elements they call for. */
export function inline(text: string): Child[] {
  const out: Child[] = [];
  let rest = text;
  for (let match = INLINE.exec(rest); match; match = INLINE.exec(rest)) {
    if (match.index) out.push(rest.slice(0, match.index));
    const [whole, code, bold, bold2, em, em2, label, href] = match;
    if (code !== undefined) out.push(h('code', {}, code));
    else if (bold !== undefined || bold2 !== undefined) out.push(h('strong', {}, inline(bold ?? bold2!)));
    else if (em !== undefined || em2 !== undefined) out.push(h('em', {}, inline(em ?? em2!)));
    else out.push(safeHref(href!) ? h('a', { href: href!, rel: 'noopener noreferrer', target: '_blank' }, inline(label!)) : whole);
    rest = rest.slice(match.index + whole.length);
  }
  if (rest) out.push(rest);
  return out;
}

const safeHref = (href: string) => /^(https?:|mailto:)/i.test(href);
