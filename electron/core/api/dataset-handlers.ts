/** Contract handlers for the dataset library: each is a thin call into core. */
import { join } from 'node:path';
import type { ImportInput, MethodName, MethodOutput, MethodParsedInput } from '../../../shared/contract';
import { runAudit } from '../dataset/audit';
import { decideFinding, findingsPage } from '../dataset/findings-query';
import { listClasses, removeClass, renameClass } from '../dataset/classes';
import { excludeImages, historyPage, redo, restoreImages, setLabels, undo } from '../dataset/edits';
import { exportDataset } from '../dataset/export';
import { countImages, listImages, resolveImage, resolveImageIdsInChunks, toImageRow } from '../dataset/images';
import { importDataset, sampleSubmissionPath } from '../dataset/import';
import { detectImport } from '../dataset/import-detect';
import { splitLibrary } from '../dataset/split';
import { libraryStats } from '../dataset/stats';
import { schemaVersion } from '../db/open';
import { checkPagePath } from '../paths/data-roots';
import { datasetExportName, exportsDir } from '../paths/exports';
import type { CoreContext } from './context';

export type Handler<M extends MethodName> = (ctx: CoreContext, input: MethodParsedInput<M>) => Promise<MethodOutput<M>> | MethodOutput<M>;
export type HandlerTable<K extends MethodName> = { [M in K]: Handler<M> };

/** Every path of an import must be inside a folder this front end allows; checked before the job starts. */
function checkImportPaths(ctx: CoreContext, input: ImportInput): void {
  checkPagePath(ctx.readRoots, input.dir, 'the image folder');
  if (input.labels) checkPagePath(ctx.readRoots, input.labels, 'the labels CSV');
  if (input.testDir) checkPagePath(ctx.readRoots, input.testDir, 'the test image folder');
  if (input.sampleSubmission) checkPagePath(ctx.readRoots, input.sampleSubmission, 'the sample submission');
}

/** One turn of the event loop: a server answers other requests while a big selection is looked up. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const changed = (ctx: CoreContext, what: 'images' | 'labels' | 'findings' | 'split' | 'classes') =>
  ctx.emit({ name: 'library.changed', payload: { what } });

export const datasetHandlers: HandlerTable<
  | 'library.info'
  | 'classes.list'
  | 'classes.rename'
  | 'classes.remove'
  | 'import.start'
  | 'import.roots'
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
  | 'jobs.get'
> = {
  'library.info': (ctx) => ({
    path: ctx.lib.dir,
    schemaVersion: schemaVersion(ctx.lib.db),
    images: countImages(ctx.lib.db),
    classes: listClasses(ctx.lib.db),
    sampleSubmission: sampleSubmissionPath(ctx.lib.db),
  }),
  'classes.list': (ctx) => listClasses(ctx.lib.db),
  'classes.rename': (ctx, input) => {
    const info = renameClass(ctx.lib.db, input.name, input.displayName);
    // findings name classes by their display names ("59 of the 61 PNGs are 'mask'"): say it in the new one
    runAudit(ctx.lib.db);
    changed(ctx, 'classes');
    changed(ctx, 'findings');
    return info;
  },
  'classes.remove': (ctx, input) => {
    const list = removeClass(ctx.lib.db, input.name);
    changed(ctx, 'classes');
    return list;
  },
  'import.detect': (ctx, input) => detectImport(checkPagePath(ctx.readRoots, input.dir, 'the image folder'), ctx.readRoots),
  'import.start': (ctx, input) => {
    checkImportPaths(ctx, input);
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
  'import.roots': (ctx) => ({ roots: [...(ctx.readRoots?.list() ?? [])] }),
  'audit.run': (ctx) => {
    const result = runAudit(ctx.lib.db);
    changed(ctx, 'findings');
    return result;
  },
  'findings.list': (ctx, input) => findingsPage(ctx.lib.db, input, input),
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
  'images.list': (ctx, input) => listImages(ctx.lib.db, input.filter, input),
  'images.get': (ctx, input) => toImageRow(resolveImage(ctx.lib.db, input.image)),
  'labels.set': async (ctx, input) => {
    const ids = await resolveImageIdsInChunks(ctx.lib.db, input.images, nextTurn);
    const r = setLabels(ctx.lib.db, ids, input.label, 'user');
    changed(ctx, 'labels');
    return r;
  },
  'images.exclude': async (ctx, input) => {
    const ids = await resolveImageIdsInChunks(ctx.lib.db, input.images, nextTurn);
    const r = excludeImages(ctx.lib.db, ids, input.reason, 'user');
    changed(ctx, 'images');
    return r;
  },
  'images.restore': async (ctx, input) => {
    const ids = await resolveImageIdsInChunks(ctx.lib.db, input.images, nextTurn);
    const r = restoreImages(ctx.lib.db, ids, 'user');
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
  'history.list': (ctx, input) => historyPage(ctx.lib.db, input),
  'export.run': (ctx) => exportDataset(ctx.lib.db, join(exportsDir(ctx.lib), datasetExportName())),
  'jobs.list': (ctx) => ctx.jobs.list(),
  'jobs.cancel': (ctx, input) => ({ cancelled: ctx.jobs.cancel(input.jobId) }),
  'jobs.get': (ctx, input) => ctx.jobs.get(input.jobId),
};
