/** Contract handler for report.write: the self-contained HTML report (core/report), into the library's exports/. */
import { join } from 'node:path';
import { exportsDir, reportFileName } from '../paths/exports';
import type { HandlerTable } from './dataset-handlers';

export const reportHandlers: HandlerTable<'report.write'> = {
  'report.write': async (ctx, input) => {
    // loaded here: sharp's thumbnails and chart.js stay out of the other methods' start-up
    const { writeReport } = await import('../report/report');
    return writeReport(ctx.lib, join(exportsDir(ctx.lib), reportFileName(ctx.lib.dir, input.split)), input.split);
  },
};
