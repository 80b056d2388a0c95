/**
 * ONNX Runtime 1.30 segfaulted (exit 139) creating a session in any process whose command line passed
 * ~28.9 KB: its telemetry client ran a recursive regex over /proc/self/cmdline (see onnx/telemetry-off.ts).
 * A child creates a session with a command line of 1,000 absolute paths, in its main thread and in a worker.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers';
import { longPaths, userEnv } from './user-env';

const CHILD = join(REPO_ROOT, 'test', 'reliability', 'fixtures', 'onnx-session.ts');

function child(mode: string[]): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, ...mode, ...longPaths()], { cwd: REPO_ROOT, env: userEnv(), encoding: 'utf8' });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

describe('an ONNX Runtime session whatever the command line', () => {
  test('in the main thread, with 1,000 absolute paths (~50 KB) as arguments', () => {
    assert.ok(longPaths().join(' ').length > 40_000);
    const r = child([]);
    assert.equal(r.signal, null, `killed by ${r.signal}`);
    assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
    assert.match(r.stdout, /^ok 7 main$/m);
  });

  test('in a worker started after the main thread turned telemetry off (as train.ts does)', () => {
    const r = child(['--worker-prepared']);
    assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
    assert.match(r.stdout, /^ok 7 worker$/m);
  });

  test('in a worker nobody prepared: an error that says why, not a segfault', () => {
    const r = child(['--worker']);
    assert.equal(r.signal, null);
    assert.equal(r.status, 1, `exit ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, /did not turn its telemetry off/);
  });
});
