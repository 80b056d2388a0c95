/**
 * `npm run bench -- dataset`: import + full audit of the real Spot the Mask images (seconds, images/s, peak
 * RSS) beside the decode limit measured in the same run (every file read and decoded once by sharp, grey,
 * 256 px, on all cores), twice, alternating; then the near-duplicate index on 100k synthetic hashes.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { mapPool } from '../../electron/core/dataset/walk';
import { runAudit } from '../../electron/core/dataset/audit';
import { importDataset } from '../../electron/core/dataset/import';
import { openLibrary } from '../../electron/core/library';
import { realData } from '../helpers';

function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Every file read and decoded once, grey, resized to 256: what an import cannot beat. */
async function decodeLimit(dirs: readonly string[]): Promise<number> {
  const files = dirs.flatMap((d) => readdirSync(d).map((f) => join(d, f)));
  const t = performance.now();
  await mapPool(files, availableParallelism() * 2, async (f) => {
    await sharp(f).greyscale().resize(256, 256, { fit: 'fill' }).raw().toBuffer().catch(() => null);
  });
  return (performance.now() - t) / 1000;
}

/** Import + audit beside the decode limit, twice, alternating (the load of a shared machine moves both). */
async function sideBySide(root: string): Promise<void> {
  for (let round = 1; round <= 2; round++) {
    const limit = await decodeLimit([join(root, 'images'), join(root, 'test_images')]);
    const dir = mkdtempSync(join(tmpdir(), 'mask-studio-bench-'));
    const lib = openLibrary(join(dir, 'lib'), { create: true });
    const t0 = performance.now();
    await importDataset(lib.db, {
      dir: join(root, 'images'),
      labels: join(root, 'labels.csv'),
      testDir: join(root, 'test_images'),
      sampleSubmission: join(root, 'sample_submission.csv'),
    });
    runAudit(lib.db);
    const both = (performance.now() - t0) / 1000;
    lib.close();
    rmSync(dir, { recursive: true, force: true });
    console.log(`  round ${round}: decode limit ${limit.toFixed(2)} s, import + audit ${both.toFixed(2)} s: ${(both / limit).toFixed(2)}× the limit (target ≤ 1.5×)`);
  }
}

export async function run(): Promise<void> {
  const data = realData();
  if ('skip' in data) {
    console.log(`dataset: skipped: ${data.skip}`);
  } else {
    console.log(`dataset: load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores`);
    await sideBySide(data.dir);
    const dir = mkdtempSync(join(tmpdir(), 'mask-studio-bench-'));
    try {
      const lib = openLibrary(join(dir, 'lib'), { create: true });
      const t0 = performance.now();
      const summary = await importDataset(lib.db, {
        dir: join(data.dir, 'images'),
        labels: join(data.dir, 'labels.csv'),
        testDir: join(data.dir, 'test_images'),
        sampleSubmission: join(data.dir, 'sample_submission.csv'),
      });
      const t1 = performance.now();
      const audit = runAudit(lib.db);
      const t2 = performance.now();
      const again = await importDataset(lib.db, {
        dir: join(data.dir, 'images'),
        labels: join(data.dir, 'labels.csv'),
        testDir: join(data.dir, 'test_images'),
        sampleSubmission: join(data.dir, 'sample_submission.csv'),
      });
      lib.close();
      const n = summary.files;
      const total = (t2 - t0) / 1000;
      console.log(`dataset: real Spot the Mask, ${n} images (${summary.labelled} labelled, ${summary.submission} submission)`);
      console.log(`  import (hash + full decode + dHash)  ${((t1 - t0) / 1000).toFixed(2)} s  ${(n / ((t1 - t0) / 1000)).toFixed(0)} images/s`);
      console.log(`  audit (${audit.findings} findings)             ${((t2 - t1) / 1000).toFixed(2)} s`);
      console.log(`  import + audit                       ${total.toFixed(2)} s  ${(n / total).toFixed(0)} images/s`);
      console.log(`  re-import, nothing changed           ${again.seconds.toFixed(2)} s`);
      console.log(`  peak RSS                             ${peakRssMb().toFixed(0)} MB`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  try {
    const nd = (await import('./near-duplicates')) as { run?: (args: string[]) => Promise<void> };
    if (nd.run) await nd.run([]);
  } catch (err) {
    console.log(`near-duplicates bench unavailable: ${(err as Error).message}`);
  }
}
