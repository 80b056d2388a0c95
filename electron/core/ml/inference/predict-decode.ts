/**
 * One file for `predict`: its pixels at the checkpoint's size, or why there are none. A full decode with
 * `failOn: 'warning'` first (the one that notices a truncated file: reading the header alone does not);
 * when it refuses, a lenient decode scores what is there and the row says what was wrong with the file.
 * Never throws for a bad file: a folder, a text file, an empty or broken image each become a message.
 * The file is read once: its bytes are decoded (both ways), checked for an early end, and handed on with
 * `keepBytes` (predict --faces hashes them and crops the faces from them).
 */
import { open, readFile, stat } from 'node:fs/promises';
import type { PredictStatus } from '../../../../shared/contract-predict';
import { endsEarly, sniffFormat } from '../../dataset/scan';
import { rgbPixels, type ResizeMode } from '../pixels';

export type Decoded =
  | { pixels: Uint8Array; status: Exclude<PredictStatus, 'error'>; message: string | null; bytes?: Buffer }
  | { pixels: null; status: 'error'; message: string };

/** Files up to this size are read to tell a truncated file from a corrupt one; bigger ones are called corrupt. */
const READ_WHOLE_MAX = 256 * 1024 * 1024;

// sharp says 'Input buffer …' of bytes it was handed; the person named a file
const firstLine = (err: unknown): string => ((err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '').replace(/^Input buffer\b/, 'Input file');

function failed(message: string): Decoded {
  return { pixels: null, status: 'error', message };
}

async function head(path: string, bytes: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export async function decodeForPredict(path: string, size: number, mode: ResizeMode, keepBytes = false): Promise<Decoded> {
  let bytes: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) return failed('is a folder, not an image');
    if (!st.isFile()) return failed('is not a regular file');
    bytes = st.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return failed(code === 'ENOENT' ? 'no such file' : `cannot read it: ${firstLine(err)}`);
  }
  if (bytes === 0) return failed('the file is empty (0 bytes)');
  // a file too big to hold is decoded from its path (and called corrupt, not truncated, if it fails)
  let buf: Buffer | null = null;
  if (bytes <= READ_WHOLE_MAX) {
    try {
      buf = await readFile(path);
    } catch (err) {
      return failed(`cannot read it: ${firstLine(err)}`);
    }
  }
  const input = buf ?? path;
  const kept = keepBytes && buf !== null ? { bytes: buf } : {};
  try {
    return { pixels: await rgbPixels(input, size, mode, 'warning'), status: 'ok', message: null, ...kept };
  } catch (strict) {
    let pixels: Uint8Array;
    try {
      pixels = await rgbPixels(input, size, mode, 'none');
    } catch (err) {
      const magic = sniffFormat(buf !== null ? buf.subarray(0, 16) : await head(path, 16).catch(() => Buffer.alloc(0)));
      if (magic === null) return failed(`not an image: its first bytes match no image format (${firstLine(err)})`);
      return failed(`cannot decode this ${magic} file: ${firstLine(err)}`);
    }
    // Which warning it was: libvips keeps one error buffer, so under concurrency its message may be only
    // "Warning treated as error"; the bytes say whether the file stops before its end marker.
    if (buf !== null && endsEarly(buf, sniffFormat(buf))) {
      return { pixels, status: 'truncated', message: `the file ends before its end-of-image marker (${bytes} bytes); scored on the part that decoded`, ...kept };
    }
    return { pixels, status: 'corrupt', message: `the decoder found corrupt data (${firstLine(strict)}); scored on what decoded`, ...kept };
  }
}
