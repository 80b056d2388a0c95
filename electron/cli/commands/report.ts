/** `report`: the audit summary and the model comparison as one self-contained HTML file. */
import { UsageError, stringOpt, type Command } from '../command';

export const report: Command = {
  name: 'report',
  usage: 'report --out FILE.html [--split val|test]',
  summary: 'write a self-contained HTML report (audit, comparison, curves, confusion matrices with thumbnails) to send',
  options: { out: { type: 'string' }, split: { type: 'string' } },
  async run(ctx, args) {
    const out = stringOpt(args, 'out');
    if (!out) throw new UsageError('report needs --out FILE.html');
    const split = stringOpt(args, 'split') ?? 'val';
    if (split !== 'val' && split !== 'test') throw new UsageError(`--split '${split}': expected val or test`);
    const { writeReport } = await import('../../core/report/report');
    const result = await writeReport(ctx.library(false), out, split);
    ctx.print(result, () => `wrote ${result.out} (${(result.bytes / 1024).toFixed(0)} KiB)`);
  },
};
