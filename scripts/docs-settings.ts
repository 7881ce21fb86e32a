/** `npm run docs:settings`: rewrites README.md's settings tables from the schema in src/config/. */
import { readFileSync, writeFileSync } from 'node:fs';
import { withSettingsTables } from './settings-tables.js';

const README = new URL('../README.md', import.meta.url);
const before = readFileSync(README, 'utf8');
const after = withSettingsTables(before);
if (after !== before) writeFileSync(README, after);
console.log(`README.md settings tables: ${after === before ? 'already up to date' : 'rewritten'}`);
