/**
 * The per-file half of an import: stat, read (whole when small, streamed when large), hash, and decode one
 * planned file, and say what to write for it. Never throws for a file that cannot be read: that becomes a row
 * with its error, which the audit reports and the next import retries.
 */
import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isEscapedPath } from './fs-names';
import type { ImageRecord } from './images';
import type { PlannedFile } from './import-plan';
import { decodeScan, factsOfBuffer, factsOfStream, IN_MEMORY_MAX, sha256, type FileFacts, type ScanResult } from './scan';

export type Outcome = 'added' | 'unchanged' | 'changed' | 'relinked';

export interface Write {
  file: PlannedFile;
  sourceId: number;
  bytes: number;
  mtimeMs: number;
  outcome: Outcome;
  existingId: number | null;
  scan: ScanResult | null; // null: bytes unchanged, only the path or mtime moved
}

/** A row's sha256 when its file could not be read: unique per path, so unread files never group as copies. */
export const UNREAD = 'unread:';

function unreadScan(abs: string, err: unknown): ScanResult {
  const e = err as NodeJS.ErrnoException;
  const why = e.code ? `${e.code}${e.message.includes(e.code) ? '' : `: ${e.message}`}` : e.message;
  return {
    sha256: `${UNREAD}${sha256(Buffer.from(abs))}`,
    magic: null, format: null, width: null, height: null, channels: null, space: null, hasAlpha: null, orientation: null,
    decodeStatus: 'unreadable',
    decodeError: `the file cannot be read (${why.split('\n')[0]}); the next import tries it again`,
    phash: null,
    phashFine: null,
  };
}

/** A name that is not UTF-8 was read and decoded by its bytes; the rest of the studio opens files by text path. */
function markEscapedName(abs: string, scan: ScanResult): ScanResult {
  if (!isEscapedPath(abs)) return scan;
  const why = `its file name is not valid UTF-8 (each bad byte is shown as \uFFFD and its hex value), so training, the viewer and export cannot open it: rename it to UTF-8 (e.g. 'convmv -f latin1 -t utf8 --notest FILE') and import again`;
  return scan.decodeStatus === 'ok'
    ? { ...scan, decodeStatus: 'unreadable', decodeError: `decoded, but ${why}` }
    : { ...scan, decodeError: `${scan.decodeError ?? scan.decodeStatus}; also, ${why}` };
}

/** The bytes' facts plus what to decode: the bytes themselves when small, else the file's path. */
async function readFacts(path: string | Buffer, size: number): Promise<{ facts: FileFacts; input: Buffer | string | null }> {
  if (size <= IN_MEMORY_MAX) {
    const buf = await readFile(path);
    return { facts: factsOfBuffer(buf), input: buf };
  }
  // sharp opens a file by a string path only; a large file whose name is not UTF-8 is hashed, not decoded
  return { facts: await factsOfStream(path), input: typeof path === 'string' ? path : null };
}

async function decodeFacts(abs: string, facts: FileFacts, input: Buffer | string | null): Promise<ScanResult> {
  if (input === null) {
    const mib = IN_MEMORY_MAX / 1024 / 1024;
    return markEscapedName(abs, {
      ...unreadScan(abs, new Error(`not decoded: over ${mib} MiB`)),
      sha256: facts.sha256,
      magic: facts.magic,
      decodeError: `not decoded: a file over ${mib} MiB is decoded from its path, which needs a UTF-8 name`,
    });
  }
  return markEscapedName(abs, await decodeScan(input, facts));
}

/**
 * One planned file: null when it is unchanged (same size and mtime as its row), else the write to make.
 * Never throws for a file that cannot be read: that is a row with its error.
 */
export async function scanOne(
  file: PlannedFile,
  known: ImageRecord | undefined,
  ctx: { sourceId: number; claimMoved: (sha256: string) => ImageRecord | null },
): Promise<Write | null> {
  let st: Stats | null = null;
  const outcome: Outcome = known ? 'changed' : 'added';
  try {
    st = await stat(file.fsPath);
    if (known && !known.sha256.startsWith(UNREAD) && known.bytes === st.size && known.mtime_ms === Math.trunc(st.mtimeMs)) return null;
    const base = { file, sourceId: ctx.sourceId, bytes: st.size, mtimeMs: Math.trunc(st.mtimeMs) };
    const { facts, input } = await readFacts(file.fsPath, st.size);
    if (known && known.sha256 === facts.sha256) return { ...base, outcome: 'unchanged', existingId: known.id, scan: null };
    if (!known) {
      const moved = ctx.claimMoved(facts.sha256);
      if (moved) return { ...base, outcome: 'relinked', existingId: moved.id, scan: null };
    }
    return { ...base, outcome, existingId: known?.id ?? null, scan: await decodeFacts(file.abs, facts, input) };
  } catch (err) {
    if (err instanceof Error && err.name === 'AbortError') throw err;
    return {
      file,
      sourceId: ctx.sourceId,
      bytes: st?.size ?? 0,
      mtimeMs: st ? Math.trunc(st.mtimeMs) : 0,
      outcome,
      existingId: known?.id ?? null,
      scan: unreadScan(file.abs, err),
    };
  }
}

