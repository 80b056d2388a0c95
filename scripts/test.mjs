#!/usr/bin/env node
// Runs the test files under test/unit, test/integration, test/reliability and test/e2e (or the folders named on the command line)
// with node's own test runner; TypeScript is loaded through tsx. Node 20 has no glob for --test, so the
// files are listed here.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const folders = args.filter((a) => !a.startsWith('--'));
const passThrough = args.filter((a) => a.startsWith('--'));
const suites = folders.length > 0 ? folders : ['unit', 'integration', 'reliability', 'e2e'];

function collect(dir) {
  let out = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out = out.concat(collect(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const files = suites.flatMap((s) => {
  const dir = join(root, 'test', s);
  try {
    return collect(dir);
  } catch {
    return statSync(join(root, s), { throwIfNoEntry: false })?.isFile() ? [join(root, s)] : [];
  }
});
if (files.length === 0) {
  console.error(`no test files under ${suites.join(', ')}`);
  process.exit(1);
}
console.error(`running ${files.length} test files: ${files.map((f) => relative(root, f)).join(' ')}`);
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', ...passThrough, ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(result.status ?? 1);
