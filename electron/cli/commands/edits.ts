/** Label, exclude, restore, undo, redo, history, classes: every change is an event and can be undone. */
import { methods } from '../../../shared/contract';
import { excludeImages, iterateHistory, redo, restoreImages, setLabels, undo } from '../../core/dataset/edits';
import { listClasses, removeClass, renameClass } from '../../core/dataset/classes';
import { UsageError, intOpt, positional, stringOpt, type Command } from '../command';
import { OutStream, streamJsonArray } from '../stream';

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
    const lib = ctx.library(false);
    const result = setLabels(lib.db, files, cls, 'user');
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
    const result = excludeImages(ctx.library(false).db, args.positionals, reason, 'user');
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
    const result = restoreImages(ctx.library(false).db, args.positionals, 'user');
    ctx.print(result, () => changed(result.changed, 'restored'));
  },
};

export const undoCmd: Command = {
  name: 'undo',
  usage: 'undo',
  summary: 'undo the last label change, exclusion or restore (one batch)',
  options: {},
  async run(ctx) {
    const result = undo(ctx.library(false).db);
    ctx.print(result, () => `undid batch ${result.batch} (${result.changed} change${result.changed === 1 ? '' : 's'})`);
  },
};

export const redoCmd: Command = {
  name: 'redo',
  usage: 'redo',
  summary: 'redo what undo took back',
  options: {},
  async run(ctx) {
    const result = redo(ctx.library(false).db);
    ctx.print(result, () => `redid batch ${result.batch} (${result.changed} change${result.changed === 1 ? '' : 's'})`);
  },
};

export const historyCmd: Command = {
  name: 'history',
  usage: 'history [--limit N]',
  summary: 'label and exclusion events, newest first',
  options: { limit: { type: 'string' } },
  async run(ctx, args) {
    const limit = intOpt(args, 'limit', 1) ?? 20;
    // streamed: `history --limit 1000000 --json` on a big library is never one array in memory
    const out = new OutStream(ctx.stdout);
    const entries = iterateHistory(ctx.library(false).db, limit);
    if (ctx.json) {
      await streamJsonArray(out, '[', entries, ']\n');
      return;
    }
    let n = 0;
    for (const e of entries) {
      const what = e.kind === 'label' ? `label ${e.oldValue ?? '∅'} → ${e.newValue ?? '∅'}` : e.newValue === null ? 'restored' : `excluded (${e.newValue})`;
      await out.line(`${e.at}  #${e.batch} ${e.state.padEnd(7)} ${e.source.padEnd(6)} ${e.image}: ${what}`);
      n++;
    }
    if (n === 0) await out.line('no history yet');
    await out.flush();
  },
};

export const classes: Command = {
  name: 'classes',
  usage: 'classes [rename NAME DISPLAY_NAME | remove NAME]',
  summary: "list the library's classes, rename how one is shown, or remove one no image carries",
  options: {},
  async run(ctx, args) {
    const lib = ctx.library(false);
    const sub = args.positionals[0];
    if (sub === undefined) {
      const list = listClasses(lib.db);
      ctx.print(list, () => list.map((c) => `${c.name}\t${c.displayName}${c.hotkey ? `\t(key ${c.hotkey})` : ''}`).join('\n') || 'no classes yet');
      return;
    }
    if (sub === 'remove') {
      const parsed = methods['classes.remove'].input.safeParse({ name: positional(args, 1, 'NAME') });
      if (!parsed.success) throw new UsageError(`classes remove NAME: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
      const input = parsed.data;
      const left = removeClass(lib.db, input.name);
      ctx.print(left, () => `removed class '${input.name}'; the classes are ${left.map((c) => c.name).join(', ') || 'none'}`);
      return;
    }
    if (sub !== 'rename') throw new UsageError(`unknown classes subcommand '${sub}' (rename or remove)`);
    const info = renameClass(lib.db, positional(args, 1, 'NAME'), positional(args, 2, 'DISPLAY_NAME'));
    ctx.print(info, () => `class ${info.name} is shown as '${info.displayName}'`);
  },
};

