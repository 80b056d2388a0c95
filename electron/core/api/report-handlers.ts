/** Contract handler for report.write: the self-contained HTML report (core/report). */
import type { HandlerTable } from './dataset-handlers';

export const reportHandlers: HandlerTable<'report.write'> = {
  'report.write': async (ctx, input) => {
    // loaded here: sharp's thumbnails and chart.js stay out of the other methods' start-up
    const { writeReport } = await import('../report/report');
    return writeReport(ctx.lib, input.out, input.split);
  },
};
