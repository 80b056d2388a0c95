/**
 * `npm run bench -- scale [--n 100000] [--seed 1] [--dir DIR]`: a generated library of n small images
 * (test/fixtures/scale.ts; reused from DIR when already there) imported and worked on, each figure beside
 * its target (issue 14). The decode limit is measured on the same files in the same run: every file read
 * and decoded once by sharp (grey, 256 px) on all cores. Imports and the streaming commands run as CLI
 * child processes so their peak RSS is their own.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import type { ImportSummary } from '../../shared/contract';
import { runAudit } from '../../electron/core/dataset/audit';
import { duplicateGroups } from '../../electron/core/dataset/audit-groups';
import { allImages } from '../../electron/core/dataset/images';
import { splitLibrary } from '../../electron/core/dataset/split';
import { libraryStats } from '../../electron/core/dataset/stats';
import { mapPool } from '../../electron/core/dataset/walk';
import { openLibrary } from '../../electron/core/library';
import { trainingSet } from '../../electron/core/ml/runs/store';
import { generateScaleDataset } from '../fixtures/scale';
import { REPO_ROOT } from '../helpers';

interface ChildResult {
  code: number | null;
  seconds: number;
  rssMb: number;
  stdoutBytes: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in a child; keeps stdout only when asked (a 100k-row JSON is counted, not kept). */
function cli(args: readonly string[], opts: { keep?: boolean; killWhen?: () => boolean } = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test', 'bench', '_scale-child.ts'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: REPO_ROOT,
    });
    let stdout = '';
    let stdoutBytes = 0;
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdoutBytes += d.length;
      if (opts.keep) stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer: NodeJS.Timeout | undefined = opts.killWhen
      ? setInterval(() => {
          if (opts.killWhen?.()) {
            child.kill('SIGKILL');
            clearInterval(timer);
          }
        }, 200)
      : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      const rss = /SCALE-RSS-KB (\d+)/.exec(stderr);
      resolve({ code, seconds: (performance.now() - started) / 1000, rssMb: rss ? Number(rss[1]) / 1024 : Number.NaN, stdoutBytes, stdout, stderr });
    });
  });
}

function opt(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const rows: Array<[string, string, string]> = [];
function report(what: string, value: string, target: string): void {
  rows.push([what, value, target]);
  console.log(`  ${what.padEnd(44)} ${value.padEnd(26)} ${target}`);
}

function timed<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const out = fn();
  return [out, (performance.now() - t) / 1000];
}

async function decodeLimit(dir: string): Promise<number> {
  const files = readdirSync(dir).map((f) => join(dir, f));
  const t = performance.now();
  await mapPool(files, availableParallelism() * 2, async (f) => {
    await sharp(f).greyscale().resize(256, 256, { fit: 'fill' }).raw().toBuffer().catch(() => null);
  });
  return (performance.now() - t) / 1000;
}

export async function run(args: string[]): Promise<void> {
  const n = Number(opt(args, 'n') ?? 100_000);
  const seed = Number(opt(args, 'seed') ?? 1);
  const dataDir = opt(args, 'dir') ?? join(tmpdir(), `mask-studio-scale-n${n}-s${seed}`);
  console.log(`scale: ${n.toLocaleString('en')} images, seed ${seed}, data in ${dataDir}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores`);
  const reused = existsSync(join(dataDir, 'manifest.json'));
  const m = await generateScaleDataset(dataDir, { n, seed, onProgress: (d, t) => process.stderr.write(`\r  generating ${d}/${t}`) });
  process.stderr.write('\n');
  console.log(`  data: ${m.exact} exact copies, ${m.near} near copies, ${m.broken} broken, ${m.pngs} PNGs, ${(m.bytes / 1e6).toFixed(0)} MB; generated in ${m.seconds.toFixed(0)} s${reused ? ' (reused)' : ''}`);
  const work = mkdtempSync(join(tmpdir(), 'mask-studio-scale-lib-'));
  try {
    const limit = await decodeLimit(m.imagesDir);
    const lib = join(work, 'lib');
    const imp = await cli(['--json', '--library', lib, 'import', m.imagesDir, '--labels', m.labelsCsv], { keep: true });
    if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr}`);
    const summary = JSON.parse(imp.stdout) as ImportSummary;
    report('decode limit (read + decode once, all cores)', `${limit.toFixed(1)} s, ${(n / limit).toFixed(0)} img/s`, '');
    report('import', `${imp.seconds.toFixed(1)} s, ${(n / imp.seconds).toFixed(0)} img/s`, '');
    report('import / decode limit', `${(imp.seconds / limit).toFixed(2)}×`, '≤ 1.5×');
    report('import peak RSS', `${imp.rssMb.toFixed(0)} MB`, '≤ 1024 MB');
    if (summary.files !== n) console.log(`  (import saw ${summary.files} files)`);

    // kill -9 part-way, then resume: finished files are not read again
    const lib2 = join(work, 'lib2');
    let probe: Database.Database | null = null;
    const committed = () => {
      if (!probe) {
        if (!existsSync(join(lib2, 'studio.db'))) return 0;
        probe = new Database(join(lib2, 'studio.db'), { readonly: true, fileMustExist: true });
      }
      try {
        return (probe.prepare('SELECT COUNT(*) AS c FROM images').get() as { c: number }).c;
      } catch {
        return 0;
      }
    };
    const killed = await cli(['--library', lib2, 'import', m.imagesDir, '--labels', m.labelsCsv], { killWhen: () => committed() >= n * 0.3 });
    const before = committed();
    (probe as Database.Database | null)?.close();
    const resumed = await cli(['--json', '--library', lib2, 'import', m.imagesDir, '--labels', m.labelsCsv], { keep: true });
    const r = JSON.parse(resumed.stdout) as ImportSummary;
    const reread = r.added + r.changed - (n - before);
    report(`resume after kill -9 at ${before} rows (code ${killed.code ?? 'signal'})`, `${r.unchanged} not read, ${Math.max(0, reread)} re-read`, '0 re-read');
    rmSync(lib2, { recursive: true, force: true });

    const library = openLibrary(lib, { create: false });
    const [audit, auditS] = timed(() => runAudit(library.db));
    report(`audit (${audit.findings} findings)`, `${auditS.toFixed(2)} s`, '≤ 10 s');
    const included = allImages(library.db).filter((i) => i.excluded === 0);
    const [groups, clusterS] = timed(() => duplicateGroups(included));
    report(`near-duplicate clustering (${groups.filter((g) => g.kind === 'near').length} near groups)`, `${clusterS.toFixed(2)} s`, '≤ 5 s');
    // the audit stored the near pairs by content (dataset/near-pair-store.ts): the split reads them
    const [, splitS] = timed(() => splitLibrary(library.db, { seed: 1, val: 0.15, test: 0.15 }));
    report('split (after the audit: near pairs read from the store)', `${splitS.toFixed(2)} s`, '≤ 2 s');
    library.db.exec('DELETE FROM near_indexed; DELETE FROM near_pairs;');
    const [, coldSplitS] = timed(() => splitLibrary(library.db, { seed: 2, val: 0.15, test: 0.15 }));
    report('split with an empty near-pair store (searched and stored)', `${coldSplitS.toFixed(2)} s`, 'no target');
    const [, statsS] = timed(() => libraryStats(library.db));
    report('stats', `${statsS.toFixed(2)} s`, '≤ 1 s');
    const [set, setS] = timed(() => trainingSet(library.db));
    report(`training-set build + dataHash (${set.train.length} train)`, `${setS.toFixed(2)} s`, '≤ 2 s');
    library.close();

    for (const [name, cmd] of [
      ['history --json (every event)', ['--json', '--library', lib, 'history', '--limit', String(10 * n)]],
      ['audit --json', ['--json', '--library', lib, 'audit']],
      ['export', ['--library', lib, 'export', join(work, 'export')]],
    ] as const) {
      const c = await cli(cmd);
      if (c.code !== 0) throw new Error(`${name} failed: ${c.stderr}`);
      report(`${name}: ${(c.stdoutBytes / 1e6).toFixed(1)} MB out`, `${c.seconds.toFixed(1)} s, peak RSS ${c.rssMb.toFixed(0)} MB`, 'streams (RSS flat)');
    }
    console.log(`  load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
