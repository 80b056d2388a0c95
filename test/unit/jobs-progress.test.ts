/** A cancelled job reports how far it got: job.finished carries the last step, and the page shows it, not a full bar. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { EventMessage, EventPayload } from '../../shared/contract';
import { steppedPhases, throttledProgress, type Progress } from '../../electron/core/jobs/progress';
import { JobRunner } from '../../electron/core/jobs/runner';
import { openLibrary } from '../../electron/core/library';
import { finishedFromState, finishedView, showsCounts } from '../../renderer/src/lib/jobs-view';
import { tempDir } from '../helpers';

test('a job cancelled at 57 of 232 finishes with last = 57 / 232, whatever the throttle let through', async (t) => {
  const lib = openLibrary(join(tempDir('jobs', t), 'lib'), { create: true });
  t.after(() => lib.close());
  const events: EventMessage[] = [];
  const runner = new JobRunner(lib.db, (e) => events.push(e));
  let reached!: () => void;
  const atStep = new Promise<void>((resolve) => (reached = resolve));
  const jobId = runner.start('train', {}, async (job) => {
    // 57 steps at once: the throttle passes the first and drops the rest
    for (let i = 1; i <= 57; i++) job.progress('train', i, 232);
    reached();
    await new Promise<void>((_, reject) => job.signal.addEventListener('abort', () => reject(Object.assign(new Error('cancelled'), { name: 'AbortError' }))));
  });
  await atStep;
  runner.cancel(jobId);
  await runner.wait(jobId);
  const finished = events.find((e) => e.name === 'job.finished')?.payload as EventPayload<'job.finished'>;
  assert.equal(finished.status, 'cancelled');
  assert.deepEqual(finished.last, { phase: 'train', done: 57, total: 232 });

  const view = finishedView({ jobId, kind: 'train', phase: 'train', done: 1, total: 232, etaMs: 100, metrics: {}, status: 'running', error: null, result: undefined }, finished);
  assert.deepEqual([view.phase, view.done, view.total], ['cancelled during train', 57, 232]);
});

test('the page shows a finished job full, a failed one where it stopped', () => {
  const base = { jobId: 'j', kind: 'import' } as const;
  assert.deepEqual(
    (({ done, total, phase }) => ({ done, total, phase }))(finishedView(undefined, { ...base, status: 'done', last: { phase: 'scan', done: 230, total: 232 } })),
    { done: 232, total: 232, phase: 'done' },
  );
  const failed = finishedView(undefined, { ...base, status: 'failed', error: { code: 'IO', message: 'disk full' }, last: { phase: 'scan', done: 12, total: 232 } });
  assert.deepEqual([failed.done, failed.phase, failed.error], [12, 'failed during scan', 'disk full']);
});

test("a finished run's bar says 'done' alone: the last phase's '3 / 3' read as a third epoch of two", () => {
  const done = finishedView(undefined, { jobId: 'r', kind: 'train', status: 'done', last: { phase: 'score', done: 3, total: 3 } });
  assert.equal(showsCounts(done), false);
  const cancelled = finishedView(undefined, { jobId: 'r', kind: 'train', status: 'cancelled', last: { phase: 'train', done: 57, total: 232 } });
  assert.equal(showsCounts(cancelled), true);
  assert.equal(showsCounts({ status: 'running' }), true);
});

test("a job of several steps names each phase with its place; a phase it does not list passes unchanged", () => {
  const seen: string[] = [];
  const progress = steppedPhases(['features', 'faces', 'folds'], (phase: string, done: number, total: number) => seen.push(`${phase} ${done}/${total}`));
  progress?.('faces', 3, 10);
  progress?.('features', 1, 2);
  progress?.('other', 0, 1);
  assert.deepEqual(seen, ['faces (step 2 of 3) 3/10', 'features (step 1 of 3) 1/2', 'other 0/1']);
  assert.equal(steppedPhases(['a'], undefined), undefined);
});

test('a page that missed job.finished learns the end from the job table: result, failure, interruption', async (t) => {
  const lib = openLibrary(join(tempDir('jobs', t), 'lib'), { create: true });
  t.after(() => lib.close());
  const runner = new JobRunner(lib.db, () => {});
  const ok = runner.start('import', {}, () => Promise.resolve({ added: 3 }));
  const bad = runner.start('import', {}, () => Promise.reject(new Error('the labels CSV is gone')));
  await Promise.all([runner.wait(ok), runner.wait(bad)]);
  assert.deepEqual(finishedFromState(runner.get(ok)), { jobId: ok, kind: 'import', status: 'done', result: { added: 3 } });
  assert.deepEqual(finishedFromState(runner.get(bad)), { jobId: bad, kind: 'import', status: 'failed', error: { code: 'INTERNAL', message: 'the labels CSV is gone' } });
  assert.throws(() => runner.get('no-such-job'), /no job no-such-job/);
  const gone = { id: 'x', kind: 'train', status: 'interrupted', createdAt: '', finishedAt: '', error: 'interrupted: the process running it stopped', runId: 'r', train: null } as const;
  assert.deepEqual(finishedFromState(gone), { jobId: 'x', kind: 'train', status: 'failed', error: { code: 'INTERNAL', message: gone.error } });
  assert.equal(finishedFromState({ ...gone, status: 'running', error: null }), null);
});

test('the ETA comes from the pace since the phase was first heard of: none before a pace exists, never "0s left" at its start', (t) => {
  let now = 1_000;
  t.mock.method(Date, 'now', () => now);
  const seen: Progress[] = [];
  const progress = throttledProgress((p) => seen.push(p));
  // a phase first heard of after its first 32 of 1,000 images (it said "0s left" here)
  progress('run 2/2', 32, 1000);
  now += 10_000;
  progress('run 2/2', 132, 1000);
  now += 10_000;
  progress('run 2/2', 232, 1000);
  // a phase heard of from 0: its first report has no pace either
  progress('next', 0, 10);
  now += 1_000;
  progress('next', 5, 10);
  progress('next', 10, 10);
  assert.deepEqual(seen.map((p) => p.etaMs), [null, 86_800, 76_800, null, 1_000, 0]);
});

test('a second job of a kind that runs is refused until the first ends; other kinds start', async (t) => {
  const lib = openLibrary(join(tempDir('jobs', t), 'lib'), { create: true });
  t.after(() => lib.close());
  const runner = new JobRunner(lib.db, () => {});
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const jobId = runner.start('doubts', {}, () => held);
  assert.throws(() => runner.refuseSecond('doubts', 'a label doubts computation'), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'CONFLICT');
    assert.match(err.message, new RegExp(`^a label doubts computation is already under way \\(job ${jobId.slice(0, 8)}\\): cancel it or wait for it to end$`));
    return true;
  });
  runner.refuseSecond('train', 'a training run');
  release();
  await runner.wait(jobId);
  runner.refuseSecond('doubts', 'a label doubts computation');
});

test('a training job names the run it writes; other jobs name none', async (t) => {
  const lib = openLibrary(join(tempDir('jobs', t), 'lib'), { create: true });
  t.after(() => lib.close());
  const runner = new JobRunner(lib.db, () => {});
  const train = runner.start('train', { runId: 'run-7', model: 'scratch' }, async () => 'ok');
  const doubts = runner.start('doubts', { model: 'inception_v3' }, async () => 'ok');
  const bare = runner.start('import', null, async () => 'ok');
  await Promise.all([runner.wait(train), runner.wait(doubts), runner.wait(bare)]);
  assert.equal(runner.get(train).runId, 'run-7');
  assert.equal(runner.get(doubts).runId, null);
  assert.equal(runner.get(bare).runId, null);
  assert.deepEqual(
    runner.list().map((j) => [j.kind, j.runId]).sort(),
    [['doubts', null], ['import', null], ['train', 'run-7']],
  );
});
