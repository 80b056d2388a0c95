/**
 * The reliability suite's tools: the CLI as a child process that reports progress as JSON lines
 * (MASK_STUDIO_PROGRESS=json), killed with SIGKILL once it has reported a seeded number of them — the
 * kill point is chosen from a seed and reached by waiting on output, never on a timer.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Rng } from '../../electron/core/random';
import { REPO_ROOT } from '../helpers';

export interface ProgressLine {
  progress: string;
  phase: string;
  done: number;
  total: number;
  metrics?: Record<string, number>;
}

/** A whole number in [lo, hi] drawn from `seed`: the same seed gives the same point in every process. */
export function seededPoint(seed: number, lo: number, hi: number): number {
  return lo + Math.floor(new Rng(seed).next() * (hi - lo + 1));
}

export interface Killed {
  /** The signal that ended the process: 'SIGKILL' when it was killed before it finished. */
  signal: NodeJS.Signals | null;
  code: number | null;
  /** The progress lines seen before the kill. */
  seen: ProgressLine[];
  stderr: string;
}

/**
 * Runs `mask-studio ARGS` and kills it (SIGKILL, no chance to clean up) at the `nth` progress line that
 * `counts` accepts. Resolves when the process is gone.
 */
export function killAtProgress(args: readonly string[], nth: number, counts: (p: ProgressLine) => boolean = () => true): Promise<Killed> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'mask-studio.mjs'), ...args], {
      env: { ...process.env, MASK_STUDIO_PROGRESS: 'json' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const seen: ProgressLine[] = [];
    let stderr = '';
    let counted = 0;
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderr += `${line}\n`;
      if (!line.startsWith('{"progress"')) return;
      const p = JSON.parse(line) as ProgressLine;
      seen.push(p);
      if (counts(p) && ++counted === nth) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ signal, code, seen, stderr }));
  });
}

/** Rows of a library's table, read without going through Mask Studio (nothing is migrated or marked). */
export function readRows<T>(libDir: string, sql: string): T[] {
  const db = new Database(join(libDir, 'studio.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

export function assertKilled(k: Killed, what: string): void {
  assert.equal(k.signal, 'SIGKILL', `${what} ended before the kill (code ${k.code}): ${k.stderr.slice(-500)}`);
}
