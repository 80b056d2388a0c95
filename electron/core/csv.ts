/**
 * A small RFC 4180 reader and writer: quoted fields, doubled quotes, CRLF or LF, a UTF-8 BOM. Rows keep the
 * 1-based line number they start on, so every message can point at the line a person sees in an editor.
 */
export interface CsvRow {
  line: number;
  fields: string[];
}

export function parseCsv(text: string): CsvRow[] {
  return parseCsvChecked(text).rows;
}

/**
 * The rows, and the lines where a quote opened and never closed. Without a closing quote every later line
 * would be swallowed into one field; instead the row where the quote opened is dropped (and reported) and
 * reading starts again on the next line.
 */
export function parseCsvChecked(text: string): { rows: CsvRow[]; unclosedQuotes: number[] } {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const rows: CsvRow[] = [];
  const unclosedQuotes: number[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let quoteLine = 0;
  let quoteAt = 0;
  let i = 0;
  const endRow = () => {
    fields.push(field);
    // A blank line is no row.
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
  };
  /** The quote opened at quoteAt never closes (properly): report its line, resume on the line after it. */
  const resumeAfterQuote = (): boolean => {
    unclosedQuotes.push(quoteLine);
    fields = [];
    field = '';
    quoted = false;
    const eol = src.slice(quoteAt).search(/\r\n|\n|\r/);
    if (eol < 0) return false;
    i = quoteAt + eol + (src.startsWith('\r\n', quoteAt + eol) ? 2 : 1);
    line = quoteLine + 1;
    rowLine = line;
    return true;
  };
  for (;;) {
    if (i >= src.length) {
      if (quoted && resumeAfterQuote()) continue;
      break;
    }
    const c = src[i]!;
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        // a "closing" quote that runs into more text after swallowing line breaks closes nothing: the
        // opening quote was a stray one (`"b.jpg,0` … `d.jpg,"0"`)
        const next = src[i + 1];
        if (line > quoteLine && next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          resumeAfterQuote();
          continue;
        }
        quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      i++;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      quoteLine = line;
      quoteAt = i;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      endRow();
      if (c === '\r' && src[i + 1] === '\n') i++;
      line++;
      rowLine = line;
    } else {
      field += c;
    }
    i++;
  }
  if (field !== '' || fields.length > 0) endRow();
  return { rows, unclosedQuotes };
}

function quote(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One CSV line (no line break), for writers that stream rows. */
export function csvLine(values: ReadonlyArray<string | number>): string {
  return values.map((v) => quote(String(v))).join(',');
}

export function formatCsv(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const lines = [csvLine(header)];
  for (const row of rows) lines.push(csvLine(row));
  return `${lines.join('\n')}\n`;
}

/** Finds named columns in a header, case-insensitively; null when one is missing. */
export function columnIndexes<K extends string>(header: readonly string[], names: readonly K[]): Record<K, number> | null {
  const lower = header.map((h) => h.trim().toLowerCase());
  const out = {} as Record<K, number>;
  for (const name of names) {
    const idx = lower.indexOf(name.toLowerCase());
    if (idx < 0) return null;
    out[name] = idx;
  }
  return out;
}
