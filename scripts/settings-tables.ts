/**
 * README.md's settings tables, made from the schema in src/config/. Each table sits between
 * `<!-- settings:<name> -->` and `<!-- /settings:<name> -->`; the text around them is written by hand.
 */
import { SETTINGS_TABLES } from '../src/config/schema.js';
import type { Setting } from '../src/config/setting.js';

function settingsTable(rows: readonly Setting<unknown>[]): string {
  const lines = ['| variable | default | reload | meaning |', '| --- | --- | --- | --- |'];
  // A `|` in a doc would end its cell. "live": a reload (SIGHUP, a watched file) applies a new value.
  for (const row of rows) lines.push(`| \`${row.env}\` | ${shownDefault(row.default)} | ${row.live ? 'live' : ''} | ${row.doc.replaceAll('|', '\\|')} |`);
  return lines.join('\n');
}

function shownDefault(value: unknown): string {
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) return 'unset';
  return `\`${String(value)}\``;
}

/** `readme` with every settings table rewritten from the schema. */
export function withSettingsTables(readme: string): string {
  let result = readme;
  for (const [name, rows] of Object.entries(SETTINGS_TABLES)) {
    const start = `<!-- settings:${name} -->\n`;
    const end = `<!-- /settings:${name} -->`;
    const from = result.indexOf(start);
    const to = result.indexOf(end, from);
    if (from < 0 || to < 0) throw new Error(`README.md lacks the markers ${start.trim()} and ${end}`);
    result = `${result.slice(0, from + start.length)}${settingsTable(rows)}\n${result.slice(to)}`;
  }
  return result;
}
