import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../electron/core/atomic-write';

describe('writeFileAtomic', () => {
  test('creates the folders, writes the bytes, leaves no temp file; a second write replaces the first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-atomic-'));
    try {
      const file = join(dir, 'a', 'b', 'x.bin');
      await writeFileAtomic(file, new Uint8Array([1, 2, 3]));
      assert.deepEqual([...readFileSync(file)], [1, 2, 3]);
      await Promise.all([writeFileAtomic(file, 'first'), writeFileAtomic(file, 'second')]);
      assert.ok(['first', 'second'].includes(readFileSync(file, 'utf8')));
      assert.deepEqual(readdirSync(join(dir, 'a', 'b')), ['x.bin']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a failed rename leaves neither the temp file nor a file in its place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-atomic-'));
    try {
      const target = join(dir, 'taken');
      mkdirSync(join(target, 'inside'), { recursive: true }); // a non-empty folder where the file should go
      await assert.rejects(writeFileAtomic(target, 'x'));
      assert.deepEqual(readdirSync(dir), ['taken']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
