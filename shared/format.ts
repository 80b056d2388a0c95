/** Numbers as a person reads them: one wording for the page, the CLI and the audit's messages. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}

/** An evaluation's own − here in words (the studio's and the CLI's): '0.1234 lower' scores worse on the folder, '0.0100 higher' better; '–' without both. */
export function dropText(drop: number | null): string {
  if (drop === null || !Number.isFinite(drop)) return '–';
  // in words: a negative "drop" (the run scores better here) read as a loss
  if (drop === 0) return 'the same';
  return `${Math.abs(drop).toFixed(4)} ${drop > 0 ? 'lower' : 'higher'}`;
}
