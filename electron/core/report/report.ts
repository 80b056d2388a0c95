/**
 * `mask-studio report`: one self-contained HTML file (audit summary and model comparison, chart.js and
 * the data inlined, thumbnails as data URLs) that a person can send and open anywhere offline.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { AppError } from '../../../shared/errors';
import type { EvalSplit } from '../../../shared/contract-compare';
import { writeFileAtomic } from '../atomic-write';
import type { Library } from '../library';
import { gatherReport } from './report-data';
import { renderReport } from './report-html';

let chartJsSource: Promise<string> | null = null;

/** chart.js's UMD build (it defines the global `Chart`), read once from the installed package. */
export function loadChartJs(): Promise<string> {
  chartJsSource ??= (async () => {
    let dist: string;
    try {
      // the package exports only its module entries; its UMD files sit beside them in dist/
      dist = dirname(createRequire(import.meta.url).resolve('chart.js'));
    } catch (err) {
      throw new AppError('NOT_FOUND', `chart.js is not installed (${(err as Error).message}); run 'npm install'`);
    }
    const file = ['chart.umd.min.js', 'chart.umd.js'].map((f) => join(dist, f)).find((f) => existsSync(f));
    if (!file) throw new AppError('NOT_FOUND', `no chart.umd.js in ${dist}: chart.js 4 is needed`);
    return readFile(file, 'utf8');
  })();
  chartJsSource.catch(() => {
    chartJsSource = null;
  });
  return chartJsSource;
}

export interface ReportResult {
  out: string;
  bytes: number;
}

export async function writeReport(lib: Library, out: string, split: EvalSplit = 'val'): Promise<ReportResult> {
  const abs = resolve(out);
  const [data, chartJs] = await Promise.all([gatherReport(lib, split), loadChartJs()]);
  const html = Buffer.from(renderReport(data, chartJs), 'utf8');
  try {
    // a half-written report never replaces a good one
    await writeFileAtomic(abs, html);
  } catch (err) {
    throw new AppError('IO', `cannot write the report to ${abs}: ${(err as Error).message}`);
  }
  return { out: abs, bytes: html.byteLength };
}
