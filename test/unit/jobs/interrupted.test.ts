/**
 * A run or job whose process is gone is 'interrupted' the moment anything reads it, and keeps what it
 * saved; a pid the system handed to another process (same pid, another start time) does not keep it alive.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { openLibrary, type Library } from '../../../electron/core/library';
import { markInterruptedJobs } from '../../../electron/core/jobs/runner';
import { ownStartKey, processGone, processStartKey } from '../../../electron/core/jobs/process-identity';
import { deleteRunRows, getRun, listRuns, runEpochs } from '../../../electron/core/ml/runs/store';
import { tempDir } from '../../helpers';

async function liveChild(t: { after(fn: () => void): void }): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await once(child, 'spawn');
  t.after(() => child.kill('SIGKILL'));
  assert.ok(child.pid);
  return child.pid;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  assert.ok(child.pid);
  return child.pid;
}

function insertRun(lib: Library, id: string, pid: number, pidStart: string | null): void {
  lib.db
    .prepare(
      `INSERT INTO runs (id, model, config, backend, device, engine, status, pid, pid_start, started_at, data_hash, train_images, val_images,
         weights_source, input_size, best_epoch, best_val_auc, best_val_log_loss)
       VALUES (?, 'scratch', '{}', 'wasm', '', 'none', 'running', ?, ?, ?, 'd', 10, 5, 'none', 64, 2, 0.9, 0.4)`,
    )
    .run(id, pid, pidStart, new Date(Date.now() - 5000).toISOString());
  const epoch = lib.db.prepare(
    `INSERT INTO epochs (run_id, epoch, stage, loss, acc, val_loss, val_acc, val_auc, lr, seconds, images_per_second) VALUES (?, ?, 1, 0.6, 0.6, 0.5, 0.7, 0.9, 0.01, 1, 10)`,
  );
  epoch.run(id, 1);
  epoch.run(id, 2);
}

test('process identity: this process and a live child are there; a dead pid or a reused one is gone', async (t) => {
  assert.equal(processGone(process.pid, ownStartKey()), false);
  const live = await liveChild(t);
  const key = processStartKey(live);
  assert.equal(processGone(live, key), false);
  assert.equal(processGone(live, null), false, 'without a start key the pid alone decides');
  if (key !== null) assert.equal(processGone(live, `${key}0`), true, 'the same pid with another start time is another process');
  assert.equal(processGone(await deadPid(), key), true);
});

test("runs whose process is gone read as interrupted at once, keep their epochs and best, and can be deleted", async (t) => {
  const lib = openLibrary(join(tempDir('interrupted', t), 'lib'), { create: true });
  t.after(() => lib.close());
  const live = await liveChild(t);
  insertRun(lib, 'dead', await deadPid(), null);
  insertRun(lib, 'reused', live, 'another-process-start');
  insertRun(lib, 'alive', live, processStartKey(live));
  insertRun(lib, 'mine', process.pid, ownStartKey());

  const status = Object.fromEntries(listRuns(lib.db).map((r) => [r.id, r.status]));
  const expectReused = processStartKey(live) === null ? 'running' : 'interrupted';
  assert.deepEqual(status, { dead: 'interrupted', reused: expectReused, alive: 'running', mine: 'running' });
  const dead = getRun(lib.db, 'dead');
  assert.deepEqual(dead.best, { epoch: 2, valAuc: 0.9, valLogLoss: 0.4 }, 'the best checkpoint is kept');
  assert.equal(runEpochs(lib.db, 'dead').length, 2);
  assert.match(dead.error ?? '', /interrupted/);
  assert.ok(dead.seconds !== null && dead.seconds >= 4, 'the time it ran is recorded');
  deleteRunRows(lib.db, 'dead');
  assert.throws(() => deleteRunRows(lib.db, 'alive'), /still running \(process \d+\)/);
});

test('jobs whose process is gone read as interrupted', async (t) => {
  const lib = openLibrary(join(tempDir('interrupted', t), 'lib'), { create: true });
  t.after(() => lib.close());
  const insert = lib.db.prepare("INSERT INTO jobs (id, kind, status, input, pid, pid_start, created_at) VALUES (?, ?, 'running', '{}', ?, ?, ?)");
  insert.run('import-job', 'import', await deadPid(), null, new Date().toISOString());
  insert.run('doubts-job', 'doubts', process.pid, ownStartKey(), new Date().toISOString());
  markInterruptedJobs(lib.db);
  const rows = lib.db.prepare('SELECT id, status FROM jobs ORDER BY id').all();
  assert.deepEqual(rows, [
    { id: 'doubts-job', status: 'running' },
    { id: 'import-job', status: 'interrupted' },
  ]);
});
