import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { defaultThreads, freeCores } from '../../../electron/core/ml/onnx/runtime';

describe('ONNX Runtime threads: the cores other processes leave free', () => {
  // 2 cores over a 200 ms window: 400 ms of machine CPU time
  test('an idle machine gives every core', () => {
    assert.equal(freeCores(2, { idle: 400, total: 400 }, 0, 200), 2);
  });
  test("this process's own work is not counted against it", () => {
    // both cores busy, all of it this process (2 × 200 ms)
    assert.equal(freeCores(2, { idle: 0, total: 400 }, 400, 200), 2);
  });
  test('another process holding a core leaves one thread', () => {
    assert.equal(freeCores(2, { idle: 200, total: 400 }, 0, 200), 1);
    assert.equal(freeCores(8, { idle: 1200, total: 1600 }, 0, 200), 6);
  });
  test('never fewer than one, and a little background work rounds away', () => {
    assert.equal(freeCores(2, { idle: 0, total: 400 }, 0, 200), 1);
    assert.equal(freeCores(2, { idle: 340, total: 400 }, 0, 200), 2); // 0.3 of a core elsewhere
  });
  test('no time measured: every core', () => {
    assert.equal(freeCores(4, { idle: 0, total: 0 }, 0, 200), 4);
  });
  test('defaultThreads measures this machine: an integer in [1, cores]', async () => {
    const n = await defaultThreads(50);
    assert.ok(Number.isInteger(n) && n >= 1 && n <= availableParallelism(), String(n));
  });
});
