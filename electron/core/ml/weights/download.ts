/**
 * Downloading one file with progress, MD5 and resume: bytes go to `<dest>.part` (kept after a failure or a
 * cancel so the next attempt continues with an HTTP Range request), the MD5 is computed as bytes arrive,
 * and the file takes its final name only once the MD5 matches.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppError } from '../../../../shared/errors';

export interface DownloadProgress {
  receivedBytes: number;
  /** Null when the server sends no length. */
  totalBytes: number | null;
  /** Bytes per second since this attempt started. */
  bytesPerSecond: number;
}

export interface DownloadOptions {
  url: string;
  dest: string;
  md5: string;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Abort when no byte arrives for this long. Default 60 s. */
  stallTimeoutMs?: number;
  /** Minimum time between two progress calls (the last one always comes). Default 100 ms. */
  progressIntervalMs?: number;
  /** Appended to network-failure messages: what to do without internet. */
  offlineHint?: string;
}

export async function md5OfFile(path: string, hash: Hash = createHash('md5')): Promise<string> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause: unknown = err.cause;
  if (cause instanceof Error) {
    const code = 'code' in cause && typeof cause.code === 'string' ? cause.code : null;
    return `${err.message} (${code ?? cause.message})`;
  }
  return err.message;
}

/** Total size from a 206's `Content-Range: bytes a-b/total` or a 200's `Content-Length`. */
function totalOf(res: Response, start: number): number | null {
  const range = res.headers.get('content-range');
  const m = range ? /\/(\d+)\s*$/.exec(range) : null;
  if (m) return Number(m[1]);
  const len = res.headers.get('content-length');
  return len !== null && /^\d+$/.test(len) ? Number(len) + start : null;
}

/** One attempt's context: where bytes go, how a failure is worded, and the stall watchdog. */
interface Attempt {
  opts: DownloadOptions;
  name: string;
  part: string;
  hint: string;
  signal: AbortSignal;
  /** Restarts the stall watchdog (each byte that arrives). */
  armStall(): void;
  failure(err: unknown, what: string): AppError;
}

/** The response to continue from `start` (or from 0 when the server cannot resume), checked. */
async function request(a: Attempt, from: number): Promise<{ res: Response; start: number }> {
  let start = from;
  let res: Response;
  try {
    res = await fetch(a.opts.url, { signal: a.signal, redirect: 'follow', headers: start > 0 ? { range: `bytes=${start}-` } : {} });
    if (res.status === 416 && start > 0) {
      // The partial file is not a prefix the server recognises: start over.
      await res.body?.cancel();
      await rm(a.part, { force: true });
      start = 0;
      res = await fetch(a.opts.url, { signal: a.signal, redirect: 'follow' });
    }
  } catch (err) {
    throw a.failure(err, 'download');
  }
  if (res.status !== 200 && res.status !== 206) {
    await res.body?.cancel();
    throw new AppError('IO', `could not download ${a.name} from ${a.opts.url}: HTTP ${res.status} ${res.statusText}.${a.hint}`);
  }
  if (res.status === 206 && !(res.headers.get('content-range') ?? '').startsWith(`bytes ${start}-`)) {
    await res.body?.cancel();
    throw new AppError('IO', `${a.opts.url} answered a resume request with an unexpected range; delete ${a.part} and fetch again`);
  }
  return { res, start: res.status === 200 ? 0 : start };
}

/** Appends the body to the part file, hashing as it goes (the part's earlier bytes first), with progress. */
async function receive(a: Attempt, res: Response, start: number): Promise<{ received: number; total: number | null; md5: string }> {
  const hash = createHash('md5');
  if (start > 0) for await (const chunk of createReadStream(a.part)) hash.update(chunk as Buffer);
  const total = totalOf(res, start);
  const file = await open(a.part, start > 0 ? 'a' : 'w');
  let received = start;
  const t0 = Date.now();
  let lastReport = 0;
  const report = (force: boolean): void => {
    const now = Date.now();
    if (!a.opts.onProgress || (!force && now - lastReport < (a.opts.progressIntervalMs ?? 100))) return;
    lastReport = now;
    const secs = Math.max((now - t0) / 1000, 1e-3);
    a.opts.onProgress({ receivedBytes: received, totalBytes: total, bytesPerSecond: (received - start) / secs });
  };
  try {
    if (!res.body) throw new Error('empty response body');
    for await (const chunk of res.body) {
      a.armStall();
      hash.update(chunk);
      await file.write(chunk);
      received += chunk.byteLength;
      report(false);
    }
  } catch (err) {
    throw a.failure(err, 'finish downloading');
  } finally {
    await file.close();
  }
  report(true);
  return { received, total, md5: hash.digest('hex') };
}

export async function download(opts: DownloadOptions): Promise<{ bytes: number; md5: string }> {
  const part = `${opts.dest}.part`;
  const name = opts.dest.split(/[\\/]/).pop() ?? opts.dest;
  const hint = opts.offlineHint ? ` ${opts.offlineHint}` : '';
  await mkdir(dirname(opts.dest), { recursive: true });

  const stall = new AbortController();
  const stallMs = opts.stallTimeoutMs ?? 60_000;
  let stallTimer: NodeJS.Timeout | undefined;
  const a: Attempt = {
    opts,
    name,
    part,
    hint,
    signal: opts.signal ? AbortSignal.any([opts.signal, stall.signal]) : stall.signal,
    armStall() {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => stall.abort(new Error(`no data for ${stallMs >= 1000 ? `${Math.round(stallMs / 1000)} s` : `${stallMs} ms`}`)), stallMs);
    },
    failure(err, what) {
      if (opts.signal?.aborted) return new AppError('CANCELLED', `download of ${name} cancelled (partial file kept; fetch again to resume)`);
      const reason = stall.signal.aborted ? describe(stall.signal.reason) : describe(err);
      return new AppError('IO', `could not ${what} ${name} from ${opts.url}: ${reason}.${hint}`);
    },
  };
  a.armStall();
  try {
    const { res, start } = await request(a, existsSync(part) ? (await stat(part)).size : 0);
    const { received, total, md5 } = await receive(a, res, start);
    if (total !== null && received !== total) {
      throw new AppError('IO', `download of ${name} ended at ${received} of ${total} bytes; fetch again to resume.${hint}`);
    }
    if (md5 !== opts.md5.toLowerCase()) {
      await rm(part, { force: true });
      throw new AppError('IO', `${name} downloaded from ${opts.url} has MD5 ${md5}, not Keras's published ${opts.md5}: the file was removed; try again.${hint}`);
    }
    await rename(part, opts.dest);
    return { bytes: received, md5 };
  } finally {
    clearTimeout(stallTimer);
  }
}
