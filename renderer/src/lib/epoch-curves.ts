/**
 * A run's epochs as curves: one series per fold of a K-fold run (each fold's epochs numbered from 1, as its
 * model saw them), a single series otherwise. The Train view draws loss and AUC per fold in shades of each
 * metric's colour; Compare draws each run's folds in the run's colour.
 */
import type { Chart, LegendItem } from 'chart.js';
import type { RunEpoch } from '../../../shared/contract';
import type { ChartConfiguration } from './charts';

export interface FoldEpoch extends RunEpoch {
  /** The epoch within its fold, from 1 (a single-split run's own epoch number). */
  n: number;
}

/** One model's epochs: a fold's (1-based), or the whole run's (fold null). */
export interface EpochSeries {
  fold: number | null;
  epochs: FoldEpoch[];
}

/**
 * The run's epochs split where their fold changes. Epochs of a K-fold run that lack their fold (trained before
 * the studio recorded it, with folds that stopped early) stay one series numbered on: where the folds meet is
 * not known.
 */
export function epochSeries(epochs: readonly RunEpoch[]): EpochSeries[] {
  const out: EpochSeries[] = [];
  for (const e of [...epochs].sort((a, b) => a.epoch - b.epoch)) {
    const last = out[out.length - 1];
    if (last && last.fold === e.fold) {
      const first = last.epochs[0]?.epoch ?? e.epoch;
      last.epochs.push({ ...e, n: e.fold === null ? e.epoch : e.epoch - first + 1 });
    } else {
      out.push({ fold: e.fold, epochs: [{ ...e, n: e.fold === null ? e.epoch : 1 }] });
    }
  }
  return out;
}

/** True when a K-fold run's epochs do not say their folds (an older run): its curves are drawn end to end. */
export function foldsUnknown(epochs: readonly RunEpoch[], k: number | null): boolean {
  return k !== null && epochs.length > 0 && epochs.some((e) => e.fold === null);
}

/**
 * A transfer run's two stages on the chart's x axis (each fold's own numbers in a K-fold run): the epochs
 * that trained the head on the frozen base, then those that fine-tuned the top of the base, as the first
 * series has them. Null when the run has one stage.
 */
export function stageSpans(epochs: readonly RunEpoch[]): { head: [number, number]; fineTune: [number, number] } | null {
  const first = epochSeries(epochs)[0]?.epochs ?? [];
  const span = (stage: 1 | 2): [number, number] | null => {
    const ns = first.filter((e) => e.stage === stage).map((e) => e.n);
    return ns.length === 0 ? null : [Math.min(...ns), Math.max(...ns)];
  };
  const head = span(1);
  const fineTune = span(2);
  return head && fineTune ? { head, fineTune } : null;
}

/** `hex` mixed toward white (amount > 0) or black (amount < 0), amount in [-1, 1]. */
export function shade(hex: string, amount: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m?.[1]) return hex;
  const v = Number.parseInt(m[1], 16);
  const mix = (c: number): number => Math.round(amount >= 0 ? c + (255 - c) * amount : c * (1 + amount));
  const rgb = [(v >> 16) & 255, (v >> 8) & 255, v & 255].map(mix);
  return `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

/** Fold `fold` of `k`'s shade of a colour: the first fold darkest, the last lightest (both read on the dark page). */
export function foldShade(hex: string, fold: number, k: number): string {
  const t = k > 1 ? (fold - 1) / (k - 1) : 0.5;
  return shade(hex, -0.3 + 0.85 * t);
}

interface Metric {
  key: 'loss' | 'valLoss' | 'auc' | 'valAuc';
  label: string;
  colour: string;
  axis: 'loss' | 'auc';
  /** Validation series are dashed, training ones solid. */
  val: boolean;
}

const METRICS: readonly Metric[] = [
  { key: 'loss', label: 'loss', colour: '#f08c4a', axis: 'loss', val: false },
  { key: 'valLoss', label: 'val loss', colour: '#f5a524', axis: 'loss', val: true },
  { key: 'auc', label: 'AUC', colour: '#3ecf8e', axis: 'auc', val: false },
  { key: 'valAuc', label: 'val AUC', colour: '#5aa9ff', axis: 'auc', val: true },
];
const DASH = [5, 4];
const FOLD_KEY = '#9aa3b2';

/** A legend entry that stands for several lines (a metric's folds, a fold's metrics, a run's folds). */
export interface LegendGroup {
  text: string;
  colour: string;
  dash: number[];
  /** The datasets it stands for, by index. */
  idx: number[];
}

/** A chart.js legend of `groups`: a click hides or shows all of a group's lines at once. */
export function groupLegend(groups: readonly LegendGroup[]) {
  const hidden = (chart: Chart, idx: readonly number[]): boolean => idx.length > 0 && idx.every((i) => !chart.isDatasetVisible(i));
  return {
    labels: {
      generateLabels: (chart: Chart): LegendItem[] => {
        // the text in the legend's own colour (chart.js's labels carry it; without it the canvas drew them black
        // on the dark card), the box outlined so a validation entry's dashes show
        const fontColor = chart.legend?.options.labels.color;
        return groups.map((g, index) => ({
          text: g.text, index, fillStyle: 'transparent', strokeStyle: g.colour, lineDash: g.dash, lineWidth: 3, hidden: hidden(chart, g.idx),
          ...(typeof fontColor === 'string' ? { fontColor } : {}),
        }));
      },
    },
    onClick: (_e: unknown, item: LegendItem, legend: { chart: Chart }): void => {
      const group = groups[item.index ?? -1];
      if (!group) return;
      const show = hidden(legend.chart, group.idx);
      for (const i of group.idx) legend.chart.setDatasetVisibility(i, show);
      legend.chart.update();
    },
  };
}

/** Which metric and fold each dataset draws, by dataset index. */
type SeriesKey = { metric: Metric['key']; fold: number | null };

/** One entry per metric (its colour, dashed for validation) and, for a fold run, one per fold (a grey: darker is earlier). */
function trainLegend(keys: readonly SeriesKey[], folds: readonly number[]) {
  const indices = (pick: (k: SeriesKey) => boolean): number[] => keys.flatMap((k, i) => (pick(k) ? [i] : []));
  return groupLegend([
    ...METRICS.map((m) => ({ text: m.label, colour: m.colour, dash: m.val ? DASH : [], idx: indices((k) => k.metric === m.key) })),
    ...folds.map((f) => ({ text: `fold ${f}`, colour: foldShade(FOLD_KEY, f, folds.length), dash: [], idx: indices((k) => k.fold === f) })),
  ]);
}

/**
 * Loss (left axis) and ROC AUC (right axis) per epoch, training solid and validation dashed; a K-fold run's
 * folds each have their own lines, in shades of the metric's colour, over the epochs of that fold.
 */
export function trainCurves(epochs: readonly RunEpoch[]): ChartConfiguration<'line'> | null {
  if (epochs.length === 0) return null;
  const series = epochSeries(epochs);
  const folds = series.flatMap((s) => (s.fold !== null ? [s.fold] : []));
  const k = Math.max(0, ...folds);
  const keys: SeriesKey[] = [];
  const datasets = series.flatMap((s) =>
    METRICS.map((m) => {
      keys.push({ metric: m.key, fold: s.fold });
      const colour = s.fold === null ? m.colour : foldShade(m.colour, s.fold, k);
      return {
        label: s.fold === null ? m.label : `fold ${s.fold} · ${m.label}`,
        // an AUC is null when an epoch saw one class only: no point there
        data: s.epochs.flatMap((e) => {
          const y = e[m.key];
          return y === null ? [] : [{ x: e.n, y }];
        }),
        borderColor: colour,
        backgroundColor: colour,
        borderDash: m.val ? DASH : [],
        yAxisID: m.axis,
        pointRadius: folds.length > 0 ? 1.5 : 3,
      };
    }),
  );
  return {
    type: 'line',
    data: { datasets },
    options: {
      plugins: { legend: trainLegend(keys, folds) },
      scales: {
        x: { type: 'linear', ticks: { precision: 0 }, title: { display: true, text: folds.length > 0 ? 'epoch of the fold' : 'epoch' } },
        loss: { position: 'left', title: { display: true, text: 'loss' } },
        auc: { position: 'right', min: 0.5, max: 1, title: { display: true, text: 'ROC AUC' }, grid: { drawOnChartArea: false } },
      },
    },
  };
}
