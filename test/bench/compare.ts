/**
 * `npm run bench -- compare [IMAGES] [RUNS]`: how long `compare` takes (1000 bootstrap resamples per run
 * for AUC and log loss, DeLong of the two best) on a temp library of IMAGES val images and RUNS runs
 * (default 200 × 10), and the bootstrap alone.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareRuns } from '../../electron/core/compare/compare';
import { bootstrapIntervals } from '../../electron/core/stats/intervals';
import { openLibrary } from '../../electron/core/library';
import { createRun, finishRun, insertPredictions, type TrainingSet } from '../../electron/core/ml/runs/store';
import { Rng } from '../../electron/core/random';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

export async function run(args: string[]): Promise<void> {
  const images = Number(args[0] ?? 200);
  const runs = Number(args[1] ?? 10);
  const dir = mkdtempSync(join(tmpdir(), 'ms-bench-compare-'));
  const lib = openLibrary(join(dir, 'lib'), { create: true });
  try {
    const db = lib.db;
    db.prepare("INSERT INTO classes (name, display_name, hotkey, position) VALUES ('0', 'no mask', '0', 0), ('1', 'mask', '1', 1)").run();
    const src = db.prepare("INSERT INTO sources (root, layout, imported_at) VALUES (?, 'zindi', 'now')").run(dir).lastInsertRowid;
    const insert = db.prepare(
      `INSERT INTO images (source_id, path, rel_path, file_name, bytes, mtime_ms, sha256, decode_status, label, split, scanned_at)
       VALUES (?, ?, ?, ?, 1, 0, ?, 'ok', ?, 'val', 'now')`,
    );
    mkdirSync(join(dir, 'files'));
    const ids: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < images; i++) {
      const label = i % 3 === 0 ? 1 : 0;
      const name = `img_${i}.jpg`;
      writeFileSync(join(dir, 'files', name), name);
      ids.push(Number(insert.run(src, join(dir, 'files', name), name, name, `sha${i}`, String(label)).lastInsertRowid));
      labels.push(label);
    }
    const rng = new Rng(1);
    const set = { classes: ['0', '1'], train: [], val: [], test: [], submission: [], dataHash: 'x'.repeat(64), splitSeed: 1 } as unknown as TrainingSet;
    for (let r = 0; r < runs; r++) {
      const id = `bench-run-${r}`;
      createRun(db, { id, model: 'scratch', config: { seed: r }, backend: 'cpu', jobId: null, set, weightsSource: 'none', inputSize: 32 });
      const quality = 0.3 + r * 0.04;
      insertPredictions(db, id, ids.map((imageId, k) => ({
        imageId, split: 'val',
        probability: Math.min(1, Math.max(0, 0.5 + ((labels[k] as number) - 0.5) * quality + (rng.next() - 0.5) * 0.8)),
      })));
      finishRun(db, id, { status: 'done', seconds: 1, best: null, imagesPerSecond: null, error: null });
    }
    const times: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      const c = compareRuns(db, 'val');
      times.push(performance.now() - t0);
      if (c.rows.length !== runs) throw new Error(`expected ${runs} rows, got ${c.rows.length}`);
    }
    const probs = labels.map((y) => Math.min(1, Math.max(0, 0.5 + (y - 0.5) * 0.5 + (rng.next() - 0.5) * 0.8)));
    const boot: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      bootstrapIntervals(labels, probs);
      boot.push(performance.now() - t0);
    }
    console.log(`compare: ${images} val images x ${runs} runs, 1000 resamples each: median ${median(times).toFixed(0)} ms (first ${times[0]?.toFixed(0)} ms) over 5`);
    console.log(`bootstrap alone (AUC + log loss, ${images} images): median ${median(boot).toFixed(1)} ms over 5`);
  } finally {
    lib.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
