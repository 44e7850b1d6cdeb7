import pc from 'picocolors';
import stringWidth from 'string-width';

/** Colours on a terminal, plain text elsewhere (a pipe, a file, NO_COLOR, --json). */
export type Style = ReturnType<typeof pc.createColors>;

export const createStyle = (enabled: boolean): Style => pc.createColors(enabled);

/** `text` cut to `max` columns with an ellipsis, on one line. */
export function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (stringWidth(line) <= max) return line;
  let out = '';
  for (const char of line) {
    if (stringWidth(out + char) > max - 1) break;
    out += char;
  }
  return `${out}…`;
}

/**
 * Rows under a header, each column as wide as its widest cell (as the terminal shows it: wide characters count
 * double, colours not at all). The last column is not padded.
 */
export function table(style: Style, header: string[], rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = header.map((h, i) => Math.max(stringWidth(h), ...rows.map((r) => stringWidth(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - stringWidth(cell))))
      .join('  ')
      .trimEnd();
  return [style.dim(line(header)), ...rows.map(line)].join('\n');
}

/** An ISO time as the terminal shows it: `2026-02-21 10:00` (UTC), '' for none. */
export const when = (iso: string) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : '');

/** Text with the ranges `highlights` in bold (search snippets). */
export function highlighted(style: Style, text: string, highlights: [number, number][]): string {
  let out = '';
  let at = 0;
  for (const [start, end] of highlights) {
    out += text.slice(at, start) + style.bold(style.yellow(text.slice(start, end)));
    at = end;
  }
  return out + text.slice(at);
}

/**
 * A progress line on stderr for long work (an export, a backup, indexing a big database), redrawn in place on a
 * terminal and silent elsewhere, so that scripts and pipes get only their answer.
 */
export function progressLine(stream: NodeJS.WriteStream = process.stderr) {
  const live = Boolean(stream.isTTY);
  let shown = false;
  let last = 0;
  const report = (label: string, done: number, total: number) => {
    if (!live) return;
    const now = Date.now();
    if (done < total && now - last < 100) return;
    last = now;
    const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
    stream.write(`\r\x1b[2K${label}: ${percent}% (${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')})`);
    shown = true;
  };
  return Object.assign(report, {
    done() {
      if (shown) stream.write('\n');
      shown = false;
    },
  });
}
