/** What every CLI command gets: the library folder, output mode, and helpers to print and show progress. */
import { defaultLibraryDir, openLibrary, type Library } from '../core/library';
import type { Progress } from '../core/jobs/progress';

export interface CliContext {
  libraryDir: string;
  json: boolean;
  /** Opens the library; `create` for commands that write (a missing folder is created then). */
  library(create: boolean): Library;
  /** The command's result: one JSON document with --json, else the text. */
  print(doc: unknown, text: () => string): void;
  /**
   * A progress line on a TTY's stderr; in a log (a pipe, nohup, CI) a plain line at each new label or phase and
   * each tenth of a phase (logLines); JSON lines with MASK_STUDIO_PROGRESS=json.
   */
  progress(label: string): (p: Progress) => void;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

function formatEta(ms: number | null): string {
  if (ms === null) return '';
  const s = Math.round(ms / 1000);
  return s >= 60 ? ` ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s left` : ` ${s}s left`;
}

/**
 * Progress for a stderr that is not a terminal: a line when the label or the phase changes (an epoch, a fold,
 * "faces") or the phase passes another tenth of its total, never a carriage-return bar. An hour of training
 * under nohup said nothing at all before; a line per epoch is what a Keras log shows.
 */
export function logLines(write: (line: string) => void): (label: string, p: Progress) => void {
  let last: { key: string; tenth: number } | null = null;
  return (label, p) => {
    const key = `${label}\u0000${p.phase}`;
    const tenth = p.total > 0 ? Math.floor((10 * Math.min(p.done, p.total)) / p.total) : 0;
    if (last !== null && last.key === key && last.tenth === tenth) return;
    last = { key, tenth };
    write(`${label} ${p.phase} ${p.done}/${p.total}${formatEta(p.etaMs)}\n`);
  };
}

export function createContext(opts: { library: string | undefined; json: boolean }): CliContext & { closeAll(): void } {
  const opened: Library[] = [];
  const stdout = process.stdout;
  const stderr = process.stderr;
  const logLine = logLines((line) => stderr.write(line));
  return {
    libraryDir: opts.library ?? defaultLibraryDir(),
    json: opts.json,
    library(create) {
      const lib = openLibrary(this.libraryDir, { create });
      opened.push(lib);
      return lib;
    },
    print(doc, text) {
      stdout.write(opts.json ? `${JSON.stringify(doc, null, 2)}\n` : `${text()}\n`);
    },
    progress(label) {
      if (process.env['MASK_STUDIO_PROGRESS'] === 'json') {
        // for scripts and tests that follow long work: one JSON line per progress report, on stderr
        return (p) => stderr.write(`${JSON.stringify({ progress: label, phase: p.phase, done: p.done, total: p.total, ...(p.metrics ? { metrics: p.metrics } : {}) })}\n`);
      }
      if (!stderr.isTTY) return (p) => logLine(label, p);
      return (p) => {
        const width = Math.max(10, Math.min(40, (stderr.columns ?? 80) - 50));
        const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
        const filled = Math.round(frac * width);
        const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
        stderr.write(`\r${label} ${p.phase} ${bar} ${p.done}/${p.total}${formatEta(p.etaMs)}\x1b[K`);
        if (p.done >= p.total) stderr.write('\n');
      };
    },
    stdout,
    stderr,
    closeAll() {
      for (const lib of opened.splice(0)) lib.close();
    },
  };
}
