/**
 * `npm run bench -- doubts [--size 224] [--folds 5] [--tta none|flip|flip-crops] [--no-faces] [--seeds 5,6,7] [--trials 5]
 * [--library DIR]`: label doubts on the real Spot the Mask labels (../shared/data/spot-the-mask from the repo
 * root), imported into a temp library by the core import (so duplicate groups come from the real hashes).
 * First on the labels as given, calibrated with `--trials` trials of planted flips (0: not calibrated): the
 * top 20 doubts with their expected precision, for a person to look at. Then, for each seed, with 5 % of the
 * labels flipped: precision and recall of the doubts against the flips (a doubt that is no flip may still be a
 * real label error), and their mean. Features: nsfwjs InceptionV3, cached, so the later computations extract
 * nothing. The machine is shared: wall-clock seconds are noisy.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { importDataset } from '../../electron/core/dataset/import';
import { DEFAULT_DOUBTS_TTA, computeDoubts } from '../../electron/core/doubts/compute';
import { TTA_MODES } from '../../shared/names';
import { openLibrary } from '../../electron/core/library';
import { Rng } from '../../electron/core/random';

const DATA = resolve(import.meta.dirname, '../../../shared/data/spot-the-mask');

export async function run(argv: string[]): Promise<void> {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const size = Number(get('--size') ?? 224);
  const folds = Number(get('--folds') ?? 5);
  const tta = TTA_MODES.find((m) => m === (get('--tta') ?? DEFAULT_DOUBTS_TTA));
  if (tta === undefined) throw new Error(`--tta ${get('--tta') ?? ''}: expected ${TTA_MODES.join(', ')}`);
  const seeds = (get('--seeds') ?? '5,6,7').split(',').map(Number);
  /** Calibration trials on the real labels (0: none). */
  const trials = Number(get('--trials') ?? 5);
  if (!existsSync(join(DATA, 'labels.csv'))) {
    console.log(`skipped: no Spot the Mask data at ${DATA}`);
    return;
  }
  const keep = get('--library');
  const dir = keep ? resolve(keep) : mkdtempSync(join(tmpdir(), 'ms-bench-doubts-'));
  const lib = openLibrary(dir, { create: true });
  try {
    let t0 = performance.now();
    const imported = await importDataset(lib.db, { dir: join(DATA, 'images'), labels: join(DATA, 'labels.csv') });
    console.log(`import: ${imported.files} files in ${((performance.now() - t0) / 1000).toFixed(1)} s (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
    const names = new Map((lib.db.prepare('SELECT name, display_name FROM classes').all() as Array<{ name: string; display_name: string }>).map((c) => [c.name, c.display_name]));
    const faces = !argv.includes('--no-faces');
    const opts = { model: 'inception_v3', weights: 'nsfwjs', inputSize: size, folds, seed: 1, tta, faces, calibrate: trials > 0, ...(trials > 0 ? { trials } : {}) };

    t0 = performance.now();
    const real = await computeDoubts(lib, opts);
    console.log(
      `\nreal labels: ${real.images} images, OOF AUC ${real.oofAuc?.toFixed(4)}, L2 ${real.l2}, thresholds ${JSON.stringify(real.thresholds)}, ` +
        `${real.doubts.length} doubts; ${((performance.now() - t0) / 1000).toFixed(1)} s (features: ${real.cachedFeatures} cached, rest on ${real.engine}; views: ${tta})`,
    );
    const c = real.calibration;
    if (c !== null) {
      console.log(
        `calibration: ${c.trials} trials of ${c.planted} planted flips: the trial lists' recall ${c.recall.toFixed(3)}, precision ${c.precision.toFixed(3)}, ` +
          `${c.doubts.toFixed(1)} doubts a trial; ${c.seconds.toFixed(1)} s; expected precision at rank 10 / 25 / 50 / 100 / last: ` +
          [10, 25, 50, 100, real.doubts.length].map((r) => real.doubts[r - 1]?.expectedPrecision?.toFixed(2) ?? '—').join(' / '),
      );
    }
    console.log('rank  file                 given     suggested  p(given)  expected precision');
    for (const d of real.doubts.slice(0, 20)) {
      console.log(
        `${String(d.rank).padEnd(5)} ${d.relPath.padEnd(20)} ${(names.get(d.given) ?? d.given).padEnd(9)} ${(names.get(d.suggested) ?? d.suggested).padEnd(10)} ${d.probability.toFixed(3)}     ${d.expectedPrecision?.toFixed(2) ?? '—'}`,
      );
    }

    // 5 % flipped, seeded, for several seeds (one seed's figures swing by ±0.05); written straight into the
    // rows (no events: this library is thrown away), the real labels put back before the next seed
    const rows = lib.db.prepare("SELECT id, label FROM images WHERE label IS NOT NULL AND excluded = 0 AND decode_status = 'ok' ORDER BY id").all() as Array<{ id: number; label: string }>;
    const set = lib.db.prepare('UPDATE images SET label = ? WHERE id = ?');
    const before = new Set(real.doubts.map((d) => d.imageId));
    const sums = { recall: 0, precision: 0 };
    for (const seed of seeds) {
      const rng = new Rng(seed);
      const flipped = new Set<number>();
      lib.db.transaction(() => {
        for (const r of rows) {
          if (rng.next() >= 0.05) continue;
          set.run(r.label === '1' ? '0' : '1', r.id);
          flipped.add(r.id);
        }
      })();
      t0 = performance.now();
      const noisy = await computeDoubts(lib, { ...opts, calibrate: false });
      lib.db.transaction(() => {
        for (const r of rows) set.run(r.label, r.id);
      })();
      const hits = noisy.doubts.filter((d) => flipped.has(d.imageId)).length;
      const others = noisy.doubts.filter((d) => !flipped.has(d.imageId));
      const recall = hits / flipped.size;
      const precision = hits / Math.max(1, noisy.doubts.length);
      sums.recall += recall;
      sums.precision += precision;
      console.log(
        `\nseed ${seed}, 5 % flipped (${flipped.size} of ${rows.length}): ${noisy.doubts.length} doubts, recall ${recall.toFixed(3)} (${hits}/${flipped.size}), ` +
          `precision ${precision.toFixed(3)}; of the ${others.length} doubts that are no flip, ${others.filter((d) => before.has(d.imageId)).length} were ` +
          `already doubted on the real labels; OOF AUC ${noisy.oofAuc?.toFixed(4)}, L2 ${noisy.l2}; ${((performance.now() - t0) / 1000).toFixed(1)} s (features: ${noisy.cachedFeatures} cached)`,
      );
    }
    console.log(`\nmean over seeds ${seeds.join(', ')}: recall ${(sums.recall / seeds.length).toFixed(3)}, precision ${(sums.precision / seeds.length).toFixed(3)} (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  } finally {
    lib.close();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}
