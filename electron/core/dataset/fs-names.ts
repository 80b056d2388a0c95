/**
 * File names that are not valid UTF-8. Linux allows any bytes in a name (an old Latin-1 zip, a camera's
 * own encoding); Node turns the invalid bytes into U+FFFD when it lists a folder, after which `stat` on that
 * string fails with ENOENT. Such a name is kept as text with each invalid byte written U+FFFD followed by
 * its two hex digits ("caf\uFFFDE9.jpg" for the bytes "caf\xE9.jpg"): readable, unique, and reversible, so
 * `fsPath()` gives back the exact bytes wherever the file must be opened again.
 */

const REPLACEMENT = '\uFFFD';
const ESCAPED = /\uFFFD[0-9A-F]{2}/;

/** The bytes of one name as text: exact when they are UTF-8, else with each invalid byte escaped. */
export function nameFromBytes(bytes: Buffer): { text: string; exact: boolean } {
  const text = bytes.toString('utf8');
  if (Buffer.from(text, 'utf8').equals(bytes) && !ESCAPED.test(text)) return { text, exact: true };
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    let taken = 0;
    // the longest UTF-8 sequence (1..4 bytes) here that decodes and re-encodes to the same bytes
    for (let len = Math.min(4, bytes.length - i); len >= 1; len--) {
      const piece = bytes.subarray(i, i + len);
      const s = piece.toString('utf8');
      if ([...s].length === 1 && Buffer.from(s, 'utf8').equals(piece) && s !== REPLACEMENT) {
        out += s;
        taken = len;
        break;
      }
    }
    if (taken === 0) {
      out += `${REPLACEMENT}${bytes[i]!.toString(16).toUpperCase().padStart(2, '0')}`;
      taken = 1;
    }
    i += taken;
  }
  return { text: out, exact: false };
}

/** The path to hand to `fs` for a path made by `nameFromBytes`: the original bytes when it was escaped. */
export function fsPath(path: string): string | Buffer {
  if (!ESCAPED.test(path)) return path;
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of path.matchAll(/\uFFFD([0-9A-F]{2})/g)) {
    parts.push(Buffer.from(path.slice(last, m.index), 'utf8'), Buffer.from([Number.parseInt(m[1]!, 16)]));
    last = m.index + m[0].length;
  }
  parts.push(Buffer.from(path.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

/** Whether this stored path stands for a name that is not UTF-8 (only `fs` with a Buffer path opens it). */
export function isEscapedPath(path: string): boolean {
  return ESCAPED.test(path);
}
