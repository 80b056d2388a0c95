/** Test helpers: temp libraries, the real dataset when it is beside the checkout, and the CLI as a process. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A fresh temp folder, removed when the test ends. */
export function tempDir(prefix: string, t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), `mask-studio-${prefix}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The real Spot the Mask copy at ../shared/data/spot-the-mask, or why it is not there. */
export function realData(): { dir: string } | { skip: string } {
  const dir = join(REPO_ROOT, '..', 'shared', 'data', 'spot-the-mask');
  if (!existsSync(join(dir, 'labels.csv')) || !existsSync(join(dir, 'images'))) {
    return { skip: `the real Spot the Mask data is not at ${dir} (only present beside a checkout that has ../shared)` };
  }
  return { dir };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `mask-studio ARGS` as a user would (the bin file), with its own environment. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'mask-studio.mjs'), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export function parseJson<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`not JSON: ${text.slice(0, 500)}`);
  }
}
