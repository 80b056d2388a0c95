/**
 * Writing a long result as it is produced: lines (or the items of one JSON array) go out in chunks of about
 * 64 KB, and a chunk the pipe did not take yet is waited for, so memory holds one chunk, not the whole
 * result (`history` over 100,000 events, `audit --json` with thousands of findings).
 */
const CHUNK = 64 * 1024;

export class OutStream {
  #buffer = '';

  constructor(private readonly out: NodeJS.WritableStream) {}

  async write(text: string): Promise<void> {
    this.#buffer += text;
    if (this.#buffer.length >= CHUNK) await this.flush();
  }

  async line(text: string): Promise<void> {
    await this.write(`${text}\n`);
  }

  async flush(): Promise<void> {
    if (this.#buffer === '') return;
    const chunk = this.#buffer;
    this.#buffer = '';
    if (!this.out.write(chunk)) await new Promise<void>((resolve) => this.out.once('drain', resolve));
  }
}

/** Streams `items` as one JSON document: `prefix` (which opens an array), the items, then `suffix`. */
export async function streamJsonArray<T>(
  out: OutStream,
  prefix: string,
  items: Iterable<T> | AsyncIterable<T>,
  suffix: string,
  map: (item: T) => unknown = (x) => x,
): Promise<number> {
  await out.write(prefix);
  let n = 0;
  for await (const item of items) {
    await out.write(`${n++ === 0 ? '\n' : ',\n'}${JSON.stringify(map(item))}`);
  }
  await out.write(`${n > 0 ? '\n' : ''}${suffix}`);
  await out.flush();
  return n;
}
