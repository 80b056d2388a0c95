/** The model download's zip: entries round-trip, and unzip (where installed) accepts the archive. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zip } from '../../electron/core/zip';
import { tempDir } from '../helpers';
import { readZip } from '../zip-reader';

test('zip: every entry comes back byte for byte, compressed or stored', (t) => {
  const text = Buffer.from('{"runId":"r","classes":["0","1"]}\n'.repeat(50));
  const noise = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 251));
  const archive = zip([
    { name: 'model-card.json', data: text },
    { name: 'weights.bin', data: noise },
    { name: 'empty.txt', data: Buffer.alloc(0) },
  ]);
  const back = readZip(archive);
  assert.deepEqual([...back.keys()], ['model-card.json', 'weights.bin', 'empty.txt']);
  assert.ok(back.get('model-card.json')?.equals(text));
  assert.ok(back.get('weights.bin')?.equals(noise));
  assert.equal(back.get('empty.txt')?.length, 0);
  if (existsSync('/usr/bin/unzip')) {
    const file = join(tempDir('zip', t), 'a.zip');
    writeFileSync(file, archive);
    const r = spawnSync('/usr/bin/unzip', ['-t', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  }
});

test('zip: an entry name that climbs out of the folder is refused', () => {
  assert.throws(() => zip([{ name: '../evil', data: Buffer.from('x') }]), /unsafe entry name/);
});
