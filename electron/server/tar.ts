/**
 * A folder as a POSIX ustar archive, streamed: how `serve` hands a person an exported model (several files)
 * as one download. Every system opens it (tar on Linux and macOS, tar.exe and Explorer on Windows 10+), and
 * writing it needs no dependency: 512-byte headers, the bytes, zero padding, two empty blocks at the end.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

const BLOCK = 512;
/** ustar's size field holds 11 octal digits. */
const MAX_ENTRY = 8 * 1024 ** 3 - 1;

function field(header: Buffer, offset: number, length: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > length) throw new Error(`tar: '${text}' does not fit ${length} bytes`);
  bytes.copy(header, offset);
}

function octal(header: Buffer, offset: number, length: number, value: number): void {
  field(header, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/** The header of one regular file; names over 100 bytes put their folder in ustar's 155-byte prefix. */
export function tarHeader(name: string, size: number, mtimeSeconds: number): Buffer {
  if (size > MAX_ENTRY) throw new Error(`tar: ${name} is over 8 GiB`);
  const header = Buffer.alloc(BLOCK);
  let prefix = '';
  let rest = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2);
    prefix = name.slice(0, cut);
    rest = name.slice(cut + 1);
  }
  field(header, 0, 100, rest);
  octal(header, 100, 8, 0o644);
  octal(header, 108, 8, 0);
  octal(header, 116, 8, 0);
  octal(header, 124, 12, size);
  octal(header, 136, 12, Math.max(0, Math.floor(mtimeSeconds)));
  header.fill(0x20, 148, 156); // the checksum is summed over spaces in its own place
  field(header, 156, 1, '0');
  field(header, 257, 6, 'ustar\0');
  field(header, 263, 2, '00');
  field(header, 345, 155, prefix);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return header;
}

/** The archive's size before it is written: a download can say Content-Length. */
export function tarSize(sizes: readonly number[]): number {
  return sizes.reduce((total, size) => total + BLOCK + Math.ceil(size / BLOCK) * BLOCK, 2 * BLOCK);
}

export interface TarEntry {
  /** Inside the archive, '/' separated. */
  name: string;
  file: string;
  size: number;
  mtimeMs: number;
}

/** `files` of `dir` (names relative to it) as entries under `folder/` in the archive. */
export async function tarEntries(dir: string, files: readonly string[], folder: string): Promise<TarEntry[]> {
  return Promise.all(
    files.map(async (f) => {
      const st = await stat(join(dir, f));
      return { name: `${folder}/${f}`, file: join(dir, f), size: st.size, mtimeMs: st.mtimeMs };
    }),
  );
}

async function* chunks(entries: readonly TarEntry[]): AsyncGenerator<Buffer> {
  for (const e of entries) {
    yield tarHeader(e.name, e.size, e.mtimeMs / 1000);
    let written = 0;
    // `end` is inclusive: never read past the size the header announced, even if the file grew.
    const stream = e.size > 0 ? createReadStream(e.file, { end: e.size - 1 }) : [];
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      written += buf.length;
      yield buf;
    }
    // A file that shrank since stat would shift every later header: refuse rather than corrupt.
    if (written !== e.size) throw new Error(`tar: ${e.file} changed size while it was archived`);
    const pad = (BLOCK - (e.size % BLOCK)) % BLOCK;
    if (pad > 0) yield Buffer.alloc(pad);
  }
  yield Buffer.alloc(2 * BLOCK);
}

export function tarStream(entries: readonly TarEntry[]): Readable {
  return Readable.from(chunks(entries), { objectMode: false });
}
