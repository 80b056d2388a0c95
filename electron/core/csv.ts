/**
 * A small RFC 4180 reader and writer: quoted fields, doubled quotes, CRLF or LF, a UTF-8 BOM. Rows keep the
 * 1-based line number they start on, so every message can point at the line a person sees in an editor.
 */
export interface CsvRow {
  line: number;
  fields: string[];
}

export function parseCsv(text: string): CsvRow[] {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const rows: CsvRow[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let i = 0;
  const endRow = () => {
    fields.push(field);
    // A blank line is no row.
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
  };
  while (i < src.length) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
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
  return rows;
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
