/**
 * `npm run bench -- dataset`: import + full audit of the real Spot the Mask images (seconds, images/s, peak
 * RSS), then the near-duplicate index on 100k synthetic hashes (its own bench prints the figures).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAudit } from '../../electron/core/dataset/audit';
import { importDataset } from '../../electron/core/dataset/import';
import { openLibrary } from '../../electron/core/library';
import { realData } from '../helpers';

function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export async function run(): Promise<void> {
  const data = realData();
  if ('skip' in data) {
    console.log(`dataset: skipped: ${data.skip}`);
  } else {
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
      console.log(`  import + audit                       ${total.toFixed(2)} s  ${(n / total).toFixed(0)} images/s  (target < 15 s)`);
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
