// Fails unless every test file under test/ and every required group of tests ran and passed: a test
// that needs a server must not quietly vanish from the run, and neither may a file (an include
// pattern that stops matching it, a rename). Groups are marked in test names: "[nats]", and so on.
// Usage: check-suites.mjs [--report FILE] TAG...   (FILE: a vitest JSON report, test-artifacts/vitest.json by default)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

const args = process.argv.slice(2);
const at = args.indexOf('--report');
const REPORT = at === -1 ? 'test-artifacts/vitest.json' : args.splice(at, 2)[1];
const REQUIRED = args;
if (!REPORT || !existsSync(REPORT)) {
  console.log(`suite check: no report ${REPORT ?? '(--report needs a file)'}: the run did not get as far as the tests`);
  process.exit(1);
}
console.log(`suite check: ${REPORT}`);
const report = JSON.parse(readFileSync(REPORT, 'utf8'));
const tests = report.testResults.flatMap((file) => file.assertionResults);
let failed = false;

// Files: every test/**/*.test.ts on disk must be in the report, and passed.
const ROOT = resolve(import.meta.dirname, '..');
const onDisk = readdirSync(resolve(ROOT, 'test'), { recursive: true })
  .map((path) => `test/${String(path).split('\\').join('/')}`)
  .filter((path) => path.endsWith('.test.ts'))
  .sort();
const fileStatus = new Map(report.testResults.map((file) => [relative(ROOT, file.name).split('\\').join('/'), file.status]));
const missing = onDisk.filter((path) => !fileStatus.has(path));
const notPassed = onDisk.filter((path) => fileStatus.has(path) && fileStatus.get(path) !== 'passed');
console.log(`suite check: test files ${onDisk.length - missing.length - notPassed.length} of ${onDisk.length} passed`);
for (const path of missing) console.log(`suite check: ${path} did not run`);
for (const path of notPassed) console.log(`suite check: ${path} ${fileStatus.get(path)}`);
if (onDisk.length === 0 || missing.length > 0 || notPassed.length > 0) failed = true;

for (const tag of REQUIRED) {
  const group = tests.filter((t) => t.fullName.includes(`[${tag}]`));
  const passed = group.filter((t) => t.status === 'passed').length;
  console.log(`suite check: [${tag}] ${passed} of ${group.length} passed`);
  if (group.length === 0 || passed !== group.length) failed = true;
}
const counts = { passed: report.numPassedTests, failed: report.numFailedTests, skipped: report.numPendingTests + report.numTodoTests };
console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
if (counts.skipped > 0) {
  console.log('suite check: skipped tests are not allowed');
  failed = true;
}
process.exit(failed || counts.failed > 0 ? 1 : 0);
