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

export async function download(opts: DownloadOptions): Promise<{ bytes: number; md5: string }> {
  const part = `${opts.dest}.part`;
  const name = opts.dest.split(/[\\/]/).pop() ?? opts.dest;
  const hint = opts.offlineHint ? ` ${opts.offlineHint}` : '';
  await mkdir(dirname(opts.dest), { recursive: true });

  const stall = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stall.signal]) : stall.signal;
  const stallMs = opts.stallTimeoutMs ?? 60_000;
  let stallTimer: NodeJS.Timeout | undefined;
  const armStall = (): void => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => stall.abort(new Error(`no data for ${stallMs >= 1000 ? `${Math.round(stallMs / 1000)} s` : `${stallMs} ms`}`)), stallMs);
  };
  const failure = (err: unknown, what: string): AppError => {
    if (opts.signal?.aborted) return new AppError('CANCELLED', `download of ${name} cancelled (partial file kept; fetch again to resume)`);
    const reason = stall.signal.aborted ? describe(stall.signal.reason) : describe(err);
    return new AppError('IO', `could not ${what} ${name} from ${opts.url}: ${reason}.${hint}`);
  };

  let start = existsSync(part) ? (await stat(part)).size : 0;
  armStall();
  try {
    let res: Response;
    try {
      res = await fetch(opts.url, { signal, redirect: 'follow', headers: start > 0 ? { range: `bytes=${start}-` } : {} });
      if (res.status === 416 && start > 0) {
        // The partial file is not a prefix the server recognises: start over.
        await res.body?.cancel();
        await rm(part, { force: true });
        start = 0;
        res = await fetch(opts.url, { signal, redirect: 'follow' });
      }
    } catch (err) {
      throw failure(err, 'download');
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw new AppError('IO', `could not download ${name} from ${opts.url}: HTTP ${res.status} ${res.statusText}.${hint}`);
    }
    if (res.status === 206 && !(res.headers.get('content-range') ?? '').startsWith(`bytes ${start}-`)) {
      await res.body?.cancel();
      throw new AppError('IO', `${opts.url} answered a resume request with an unexpected range; delete ${part} and fetch again`);
    }
    if (res.status === 200) start = 0;
    const hash = createHash('md5');
    if (start > 0) for await (const chunk of createReadStream(part)) hash.update(chunk as Buffer);
    const total = totalOf(res, start);
    const file = await open(part, start > 0 ? 'a' : 'w');
    let received = start;
    const t0 = Date.now();
    let lastReport = 0;
    const report = (force: boolean): void => {
      const now = Date.now();
      if (!opts.onProgress || (!force && now - lastReport < (opts.progressIntervalMs ?? 100))) return;
      lastReport = now;
      const secs = Math.max((now - t0) / 1000, 1e-3);
      opts.onProgress({ receivedBytes: received, totalBytes: total, bytesPerSecond: (received - start) / secs });
    };
    try {
      if (!res.body) throw new Error('empty response body');
      for await (const chunk of res.body) {
        armStall();
        hash.update(chunk);
        await file.write(chunk);
        received += chunk.byteLength;
        report(false);
      }
    } catch (err) {
      throw failure(err, 'finish downloading');
    } finally {
      await file.close();
    }
    report(true);
    if (total !== null && received !== total) {
      throw new AppError('IO', `download of ${name} ended at ${received} of ${total} bytes; fetch again to resume.${hint}`);
    }
    const md5 = hash.digest('hex');
    if (md5 !== opts.md5.toLowerCase()) {
      await rm(part, { force: true });
      throw new AppError(
        'IO',
        `${name} downloaded from ${opts.url} has MD5 ${md5}, not Keras's published ${opts.md5}: the file was removed; try again.${hint}`,
      );
    }
    await rename(part, opts.dest);
    return { bytes: received, md5 };
  } finally {
    clearTimeout(stallTimer);
  }
}
