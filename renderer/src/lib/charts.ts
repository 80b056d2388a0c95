/** The charts' types; chart.js itself is loaded with the first chart (lib/chart-engine.ts), colours come from lib/palette.ts. */
export type { ChartConfiguration, ChartType } from 'chart.js';
