/** Contract handlers for the dataset library: each is a thin call into core. */
import type { MethodName, MethodOutput, MethodParsedInput } from '../../../shared/contract';
import { decideFinding, listFindings, runAudit } from '../dataset/audit';
import { listClasses, renameClass } from '../dataset/classes';
import { excludeImages, history, redo, restoreImages, setLabels, undo } from '../dataset/edits';
import { exportDataset } from '../dataset/export';
import { countImages, listImages, resolveImage, toImageRow } from '../dataset/images';
import { importDataset } from '../dataset/import';
import { detectImport } from '../dataset/import-detect';
import { splitLibrary } from '../dataset/split';
import { libraryStats } from '../dataset/stats';
import { schemaVersion } from '../db/open';
import type { CoreContext } from './context';

export type Handler<M extends MethodName> = (ctx: CoreContext, input: MethodParsedInput<M>) => Promise<MethodOutput<M>> | MethodOutput<M>;
export type HandlerTable<K extends MethodName> = { [M in K]: Handler<M> };

const changed = (ctx: CoreContext, what: 'images' | 'labels' | 'findings' | 'split' | 'classes') =>
  ctx.emit({ name: 'library.changed', payload: { what } });

export const datasetHandlers: HandlerTable<
  | 'library.info'
  | 'classes.list'
  | 'classes.rename'
  | 'import.start'
  | 'import.detect'
  | 'audit.run'
  | 'findings.list'
  | 'findings.decide'
  | 'stats.get'
  | 'split.run'
  | 'images.list'
  | 'images.get'
  | 'labels.set'
  | 'images.exclude'
  | 'images.restore'
  | 'history.undo'
  | 'history.redo'
  | 'history.list'
  | 'export.run'
  | 'jobs.list'
  | 'jobs.cancel'
> = {
  'library.info': (ctx) => ({
    path: ctx.lib.dir,
    schemaVersion: schemaVersion(ctx.lib.db),
    images: countImages(ctx.lib.db),
    classes: listClasses(ctx.lib.db),
  }),
  'classes.list': (ctx) => listClasses(ctx.lib.db),
  'classes.rename': (ctx, input) => {
    const info = renameClass(ctx.lib.db, input.name, input.displayName);
    changed(ctx, 'classes');
    return info;
  },
  'import.detect': (_ctx, input) => detectImport(input.dir),
  'import.start': (ctx, input) => {
    const jobId = ctx.jobs.start('import', input, async (job) => {
      const summary = await importDataset(ctx.lib.db, input, {
        signal: job.signal,
        onProgress: (p) => job.progress(p.phase, p.done, p.total),
      });
      // The audit reads only what import stored: run it so the views open on fresh findings.
      runAudit(ctx.lib.db);
      changed(ctx, 'images');
      changed(ctx, 'findings');
      return summary;
    });
    return { jobId };
  },
  'audit.run': (ctx) => {
    const result = runAudit(ctx.lib.db);
    changed(ctx, 'findings');
    return result;
  },
  'findings.list': (ctx, input) => listFindings(ctx.lib.db, input),
  'findings.decide': (ctx, input) => {
    const f = decideFinding(ctx.lib.db, input.id, input.status);
    changed(ctx, 'findings');
    return f;
  },
  'stats.get': (ctx) => libraryStats(ctx.lib.db),
  'split.run': (ctx, input) => {
    const result = splitLibrary(ctx.lib.db, input);
    changed(ctx, 'split');
    return result;
  },
  'images.list': (ctx, input) => listImages(ctx.lib.db, input.filter, input.offset, input.limit),
  'images.get': (ctx, input) => toImageRow(resolveImage(ctx.lib.db, input.image)),
  'labels.set': (ctx, input) => {
    const r = setLabels(ctx.lib.db, input.images, input.label, 'user');
    changed(ctx, 'labels');
    return r;
  },
  'images.exclude': (ctx, input) => {
    const r = excludeImages(ctx.lib.db, input.images, input.reason, 'user');
    changed(ctx, 'images');
    return r;
  },
  'images.restore': (ctx, input) => {
    const r = restoreImages(ctx.lib.db, input.images, 'user');
    changed(ctx, 'images');
    return r;
  },
  'history.undo': (ctx) => {
    const r = undo(ctx.lib.db);
    changed(ctx, 'labels');
    return r;
  },
  'history.redo': (ctx) => {
    const r = redo(ctx.lib.db);
    changed(ctx, 'labels');
    return r;
  },
  'history.list': (ctx, input) => history(ctx.lib.db, input.limit),
  'export.run': (ctx, input) => exportDataset(ctx.lib.db, input.outDir),
  'jobs.list': (ctx) => ctx.jobs.list(),
  'jobs.cancel': (ctx, input) => ({ cancelled: ctx.jobs.cancel(input.jobId) }),
};
