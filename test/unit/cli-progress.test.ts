/**
 * The CLI's progress where stderr is not a terminal (a pipe, nohup, CI): a line at each new label or phase and
 * at each tenth of a phase, no carriage-return bar. Before, such a log stayed empty for an hour of training.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logLines } from '../../electron/cli/context';

test('a log gets a line per new label or phase and per tenth of a phase, nothing in between', () => {
  const lines: string[] = [];
  const log = logLines((l) => lines.push(l));
  const at = (label: string, phase: string, done: number, total: number): void => log(label, { phase, done, total, etaMs: null });
  // one epoch of 100 batches reported at every batch: the label changes once per epoch
  for (let b = 0; b <= 100; b++) at('scratch fold 1/5 epoch 1', 'train', b, 400);
  for (let b = 100; b <= 200; b++) at('scratch fold 1/5 epoch 2', 'train', b, 400);
  // a phase of its own: a line at its start and at each tenth (0/50 … 50/50)
  for (let n = 0; n <= 50; n++) at('scratch', 'faces', n, 50);
  assert.deepEqual(lines.slice(0, 6), [
    'scratch fold 1/5 epoch 1 train 0/400\n',
    'scratch fold 1/5 epoch 1 train 40/400\n',
    'scratch fold 1/5 epoch 1 train 80/400\n',
    'scratch fold 1/5 epoch 2 train 100/400\n',
    'scratch fold 1/5 epoch 2 train 120/400\n',
    'scratch fold 1/5 epoch 2 train 160/400\n',
  ]);
  const faces = lines.filter((l) => l.startsWith('scratch faces'));
  assert.equal(faces.length, 11);
  assert.equal(faces[10], 'scratch faces 50/50\n');
  assert.ok(lines.every((l) => !l.includes('\r')));
  // the same report again writes nothing
  const n = lines.length;
  at('scratch', 'faces', 50, 50);
  assert.equal(lines.length, n);
});
