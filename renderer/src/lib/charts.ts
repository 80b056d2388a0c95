/** The charts' types and colours; chart.js itself is loaded with the first chart (lib/chart-engine.ts). */
export type { ChartConfiguration, ChartType } from 'chart.js';

export const CLASS_COLOURS = ['#f08c4a', '#3ecf8e', '#b38cff', '#5aa9ff', '#f5a524', '#ff5d5d'];
export const SPLIT_COLOURS: Record<string, string> = {
  unassigned: '#6b7280',
  train: '#5aa9ff',
  val: '#f5a524',
  test: '#b38cff',
  submission: '#3ecf8e',
};
