/** Label, exclude, restore, undo, redo, history, classes: every change is an event and can be undone. */
import type { HistoryEntry } from '../../../shared/contract';
import { datasetHandlers as h } from '../../core/api/dataset-handlers';
import { UsageError, positional, stringOpt, type Command } from '../command';
import type { CliContext } from '../context';
import { cliCore, given, numeric, parseInput, type CliCore } from '../contract-call';
import { OutStream, streamJsonArray } from '../stream';

const core = (ctx: CliContext) => cliCore(ctx, ctx.library(false), () => '');

/** Events asked of history.list at a time while `history` streams. */
const HISTORY_PAGE = 1000;

function changed(n: number, what: string): string {
  return n === 0 ? `nothing changed (already ${what})` : `${n} image${n === 1 ? '' : 's'} ${what}`;
}

export const label: Command = {
  name: 'label',
  usage: 'label FILE... CLASS',
  summary: "set the label of one or more images (file name or path relative to the imported folder)",
  options: {},
  async run(ctx, args) {
    if (args.positionals.length < 2) throw new UsageError('label needs FILE and CLASS');
    const cls = args.positionals[args.positionals.length - 1]!;
    const files = args.positionals.slice(0, -1);
    const result = await core(ctx).call(h['labels.set'], parseInput('labels.set', { images: files, label: cls }, { images: 'FILE', label: 'CLASS' }));
    ctx.print(result, () => changed(result.changed, `labelled '${cls}'`));
  },
};

export const exclude: Command = {
  name: 'exclude',
  usage: 'exclude FILE... --reason TEXT',
  summary: 'exclude images from training and export (the files are not touched; undoable)',
  options: { reason: { type: 'string' } },
  async run(ctx, args) {
    const reason = stringOpt(args, 'reason');
    if (!reason) throw new UsageError('exclude needs --reason TEXT (e.g. --reason "duplicate")');
    if (args.positionals.length === 0) throw new UsageError('exclude needs at least one FILE');
    const input = parseInput('images.exclude', { images: args.positionals, reason }, { images: 'FILE', reason: '--reason' });
    const result = await core(ctx).call(h['images.exclude'], input);
    ctx.print(result, () => changed(result.changed, 'excluded'));
  },
};

export const restore: Command = {
  name: 'restore',
  usage: 'restore FILE...',
  summary: 'include excluded images again',
  options: {},
  async run(ctx, args) {
    if (args.positionals.length === 0) throw new UsageError('restore needs at least one FILE');
    const result = await core(ctx).call(h['images.restore'], parseInput('images.restore', { images: args.positionals }, { images: 'FILE' }));
    ctx.print(result, () => changed(result.changed, 'restored'));
  },
};

export const undoCmd: Command = {
  name: 'undo',
  usage: 'undo',
  summary: 'undo the last label change, exclusion or restore (one batch)',
  options: {},
  async run(ctx) {
    const result = await core(ctx).call(h['history.undo'], parseInput('history.undo', {}, {}));
    ctx.print(result, () => `undid batch ${result.batch} (${result.changed} change${result.changed === 1 ? '' : 's'})`);
  },
};

export const redoCmd: Command = {
  name: 'redo',
  usage: 'redo',
  summary: 'redo what undo took back',
  options: {},
  async run(ctx) {
    const result = await core(ctx).call(h['history.redo'], parseInput('history.redo', {}, {}));
    ctx.print(result, () => `redid batch ${result.batch} (${result.changed} change${result.changed === 1 ? '' : 's'})`);
  },
};

export const historyCmd: Command = {
  name: 'history',
  usage: 'history [--limit N]',
  summary: 'label and exclusion events, newest first',
  options: { limit: { type: 'string' } },
  async run(ctx, args) {
    // --limit is how many events in all; the CLI asks history.list for them a page at a time (each page
    // through the method's schema, so '--limit 0' is refused as the API refuses it) and writes each page as
    // it comes: `history --limit 1000000 --json` on a big library is never one array in memory
    const raw = numeric(stringOpt(args, 'limit') ?? '20');
    const flags = { limit: '--limit' };
    const first = parseInput('history.list', given({ limit: typeof raw === 'number' ? Math.min(raw, HISTORY_PAGE) : raw }), flags);
    const total = typeof raw === 'number' ? raw : first.limit;
    const out = new OutStream(ctx.stdout);
    const entries = historyEntries(core(ctx), total, first.limit);
    if (ctx.json) {
      await streamJsonArray(out, '[', entries, ']\n');
      return;
    }
    let n = 0;
    for await (const e of entries) {
      const what = e.kind === 'label' ? `label ${e.oldValue ?? '∅'} → ${e.newValue ?? '∅'}` : e.newValue === null ? 'restored' : `excluded (${e.newValue})`;
      await out.line(`${e.at}  #${e.batch} ${e.state.padEnd(7)} ${e.source.padEnd(6)} ${e.image}: ${what}`);
      n++;
    }
    if (n === 0) await out.line('no history yet');
    await out.flush();
  },
};

/** `total` events newest first, read from history.list a page at a time with its cursor. */
async function* historyEntries(api: CliCore, total: number, page: number): AsyncGenerator<HistoryEntry> {
  let cursor: string | undefined;
  for (let left = total; left > 0; ) {
    const input = parseInput('history.list', given({ limit: Math.min(left, page), cursor }), { limit: '--limit' });
    const { entries, nextCursor } = await api.call(h['history.list'], input);
    yield* entries;
    left -= entries.length;
    if (nextCursor === null) return;
    cursor = nextCursor;
  }
}

export const classes: Command = {
  name: 'classes',
  usage: 'classes [rename NAME DISPLAY_NAME | remove NAME]',
  summary: "list the library's classes, rename how one is shown, or remove one no image carries",
  options: {},
  async run(ctx, args) {
    const sub = args.positionals[0];
    if (sub === undefined) {
      const list = await core(ctx).call(h['classes.list'], parseInput('classes.list', {}, {}));
      ctx.print(list, () => list.map((c) => `${c.name}\t${c.displayName}${c.hotkey ? `\t(key ${c.hotkey})` : ''}`).join('\n') || 'no classes yet');
      return;
    }
    if (sub === 'remove') {
      const input = parseInput('classes.remove', { name: positional(args, 1, 'NAME') }, { name: 'NAME' });
      const left = await core(ctx).call(h['classes.remove'], input);
      ctx.print(left, () => `removed class '${input.name}'; the classes are ${left.map((c) => c.name).join(', ') || 'none'}`);
      return;
    }
    if (sub !== 'rename') throw new UsageError(`unknown classes subcommand '${sub}' (rename or remove)`);
    const input = parseInput('classes.rename', { name: positional(args, 1, 'NAME'), displayName: positional(args, 2, 'DISPLAY_NAME') }, { name: 'NAME', displayName: 'DISPLAY_NAME' });
    const info = await core(ctx).call(h['classes.rename'], input);
    ctx.print(info, () => `class ${info.name} is shown as '${info.displayName}'`);
  },
};

