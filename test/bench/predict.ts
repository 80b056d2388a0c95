/**
 * `npm run bench -- predict [--images 10000] [--distinct 400] [--size 64] [--batch 32] [--engine auto|onnx|tfjs]`:
 * `mask-studio predict` over 10,000 generated images named on one command line (absolute paths, about
 * 0.66 MB of arguments), as a person would run it on a folder's worth of photos, writing a CSV. Prints the
 * child's peak RSS (VmHWM, polled from /proc), images/s as predict measured them, and the wall time.
 * Measured on 2 shared cores (load 12–18): 103.8 images/s at 64 px on ONNX Runtime, peak RSS 350 MiB.
 * A tiny scratch run (one epoch) provides the checkpoint; `--distinct` generated faces are copied under
 * distinct names to reach the count (every copy is decoded again: the work is the same).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PredictSummary } from '../../shared/contract-predict';
import { importDataset } from '../../electron/core/dataset/import';
import { splitLibrary } from '../../electron/core/dataset/split';
import { JobRunner } from '../../electron/core/jobs/runner';
import { openLibrary } from '../../electron/core/library';
import { getRun } from '../../electron/core/ml/runs/store';
import { startTraining } from '../../electron/core/ml/train/start';
import { generateDataset } from '../fixtures/synthetic';
import { REPO_ROOT } from '../helpers';

function arg(argv: readonly string[], flag: string, fallback: string): string {
  const i = argv.indexOf(flag);
  return i >= 0 ? (argv[i + 1] ?? fallback) : fallback;
}

/** Peak resident memory (VmHWM) of a live process, in bytes; null once it is gone or off Linux. */
function peakRss(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export async function run(argv: string[]): Promise<void> {
  const images = Number(arg(argv, '--images', '10000'));
  const distinct = Number(arg(argv, '--distinct', '400'));
  const size = Number(arg(argv, '--size', '64'));
  const batch = arg(argv, '--batch', '32');
  const engine = arg(argv, '--engine', 'auto');
  const dir = mkdtempSync(join(tmpdir(), 'mask-studio-bench-predict-'));
  try {
    const t0 = performance.now();
    const data = await generateDataset(join(dir, 'data'), { seed: 12, n: distinct, testN: 0 });
    const lib = openLibrary(join(dir, 'lib'), { create: true });
    await importDataset(lib.db, { dir: data.imagesDir, labels: data.labelsCsv });
    splitLibrary(lib.db, { seed: 1, val: 0.2, test: 0 });
    const runner = new JobRunner(lib.db, () => {});
    const start = startTraining(lib, runner, { model: 'scratch', inputSize: size, epochs: 1, batchSize: 16, backend: 'wasm', seed: 1 });
    await runner.wait(start.jobId);
    const status = getRun(lib.db, start.runId).status;
    lib.close();
    if (status !== 'done') throw new Error(`the checkpoint's run ended ${status}`);
    const sources = Object.values(data.paths).filter((p) => existsSync(p));
    const files: string[] = [];
    for (let i = 0; i < images; i++) {
      const folder = join(dir, 'photos', `roll-${String(Math.floor(i / 1000)).padStart(2, '0')}`);
      if (i % 1000 === 0) mkdirSync(folder, { recursive: true });
      const src = sources[i % sources.length] ?? '';
      const f = join(folder, `IMG_${String(i).padStart(6, '0')}${src.slice(src.lastIndexOf('.'))}`);
      copyFileSync(src, f);
      files.push(f);
    }
    const argBytes = files.reduce((n, f) => n + Buffer.byteLength(f) + 1, 0);
    console.log(
      `setup: ${distinct} faces generated, a ${size} px scratch run trained, ${images} files written in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
        `${(argBytes / 1024).toFixed(0)} KB of file arguments`,
    );

    const out = join(dir, 'predictions.csv');
    const args = [join(REPO_ROOT, 'bin', 'mask-studio.mjs'), '--library', join(dir, 'lib'), '--json', 'predict', '--run', start.runId, '--out', out, '--batch', batch, '--engine', engine, ...files];
    const t1 = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let peak = 0;
    const poll = setInterval(() => {
      peak = Math.max(peak, peakRss(child.pid ?? -1) ?? 0);
    }, 50);
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (c, s) => resolve({ code: c, signal: s })),
    );
    clearInterval(poll);
    const wall = (performance.now() - t1) / 1000;
    if (code !== 0) throw new Error(`predict ended with ${signal ?? `exit ${code}`}: ${stderr.slice(-2000)}`);
    const summary = JSON.parse(stdout) as PredictSummary;
    const rows = readFileSync(out, 'utf8').trim().split('\n').length - 1;
    console.log(
      `predict, ${images} files in one call (engine ${summary.engine}/${summary.provider}, batch ${batch}): exit ${code}, ${rows} CSV rows, ` +
        `${summary.scored} scored, ${summary.errors} errors; ${summary.imagesPerSecond.toFixed(1)} images/s (${summary.seconds.toFixed(1)} s in predict, ` +
        `${wall.toFixed(1)} s wall with start-up); peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (target ≤ 1024 MiB); ` +
        `${availableParallelism()} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
