/**
 * Heavy jobs take turns: a queued job's work starts only when every queued job started before it has ended;
 * while it waits its phase says what it waits for; cancelled while waiting, it ends cancelled without having
 * run, and its `cancelledWaiting` ends what its start made. A job outside the queue runs at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventPayload } from '../../../shared/contract';
import { openLibrary } from '../../../electron/core/library';
import { JobRunner, waitingPhase } from '../../../electron/core/jobs/runner';
import { tempDir } from '../../helpers';

function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

interface Heard {
  progress: Array<EventPayload<'job.progress'>>;
  finished: Array<EventPayload<'job.finished'>>;
}

function setup(t: { after(fn: () => void): void }): { runner: JobRunner; events: Heard } {
  const lib = openLibrary(tempDir('jobs-queue', t), { create: true });
  t.after(() => lib.close());
  const events: Heard = { progress: [], finished: [] };
  const runner = new JobRunner(lib.db, (e) => {
    if ('phase' in e.payload) events.progress.push(e.payload);
    if ('status' in e.payload) events.finished.push(e.payload);
  });
  return { runner, events };
}

const finished = (events: Heard, jobId: string): string | undefined => events.finished.find((e) => e.jobId === jobId)?.status;

test('a queued job waits for the heavy job started before it, and says so', async (t) => {
  const { runner, events } = setup(t);
  const first = gate();
  const order: string[] = [];
  const a = runner.start('train', {}, async () => {
    order.push('train starts');
    await first.promise;
    order.push('train ends');
  }, { queue: true });
  const b = runner.start('doubts', {}, async () => {
    order.push('doubts start');
  }, { queue: true });
  const c = runner.start('import', {}, async () => {
    order.push('import starts');
  });
  await runner.wait(c);
  assert.deepEqual(order, ['train starts', 'import starts'], 'the doubts wait; an import, outside the queue, does not');
  assert.equal(events.progress.find((e) => e.jobId === b)?.phase, waitingPhase('train', a));
  // a page loaded after that event reads the same from the job table (a waiting job sends no other)
  assert.deepEqual(runner.list().find((j) => j.id === b)?.step, { phase: waitingPhase('train', a), done: 0, total: 0 });
  assert.deepEqual(runner.get(b).step, { phase: waitingPhase('train', a), done: 0, total: 0 });
  assert.match(waitingPhase('train', a), /^waiting for a training run \(job [0-9a-f]{8}\) to end$/);
  first.open();
  await runner.wait(b);
  assert.deepEqual(order, ['train starts', 'import starts', 'train ends', 'doubts start']);
  assert.equal(finished(events, b), 'done');
});

test('a job cancelled while it waits ends cancelled without running, and ends what its start made', async (t) => {
  const { runner, events } = setup(t);
  const first = gate();
  const a = runner.start('doubts', {}, () => first.promise, { queue: true });
  let ran = false;
  let ended = 0;
  const b = runner.start('train', {}, async () => {
    ran = true;
  }, { queue: true, cancelledWaiting: () => ended++ });
  // let b reach its wait, then cancel it
  await Promise.resolve();
  assert.equal(runner.cancel(b), true);
  await runner.wait(b);
  assert.equal(ran, false);
  assert.equal(ended, 1);
  assert.equal(finished(events, b), 'cancelled');
  assert.equal(runner.get(b).status, 'cancelled');
  assert.equal(runner.get(a).status, 'running', 'the job ahead goes on');
  first.open();
  await runner.wait(a);
  assert.equal(runner.get(a).status, 'done');
});

test('a job queued behind one that failed still gets its turn', async (t) => {
  const { runner } = setup(t);
  const a = runner.start('train', {}, async () => {
    throw new Error('boom');
  }, { queue: true });
  const b = runner.start('evaluate', {}, async () => 'ok', { queue: true });
  await runner.wait(b);
  assert.equal(runner.get(a).status, 'failed');
  assert.equal(runner.get(b).status, 'done');
});
