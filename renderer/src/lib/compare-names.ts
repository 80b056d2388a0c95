/** What a run is called in the Compare view: its name, else its model, told apart when several share one. */
import type { CompareRow } from '../../../shared/contract-compare';

function base(r: CompareRow): string {
  if (r.name) return r.name;
  return r.kind === 'ensemble' ? `ensemble of ${r.members.length}` : r.model;
}

export function runLabels(rows: readonly CompareRow[]): Map<string, string> {
  const count = new Map<string, number>();
  for (const r of rows) count.set(base(r), (count.get(base(r)) ?? 0) + 1);
  const first = new Map<string, string>();
  for (const r of rows) {
    const b = base(r);
    first.set(r.id, (count.get(b) ?? 0) > 1 && r.seed !== null ? `${b} · seed ${r.seed}` : b);
  }
  // Same model and seed (a rerun): the id's random tail is what differs.
  const taken = new Map<string, number>();
  for (const label of first.values()) taken.set(label, (taken.get(label) ?? 0) + 1);
  return new Map(rows.map((r) => {
    const label = first.get(r.id) ?? r.id;
    return [r.id, (taken.get(label) ?? 0) > 1 ? `${label} · ${r.id.slice(-4)}` : label];
  }));
}

/** A run named by its id alone, short: `inception_v3 · c160` for `20261206-202713-inception_v3-c160` (else the id). */
export function shortRunName(id: string): string {
  const m = /^\d{8}-\d{6}-(.+)-([0-9a-f]{4,})$/.exec(id);
  return m ? `${m[1]} · ${m[2]}` : id;
}

export const RUN_COLOURS = ['#5aa9ff', '#3ecf8e', '#f08c4a', '#b38cff', '#f5a524', '#ff5d5d', '#4dd0e1', '#e57bd0'];

/**
 * The i-th run's colour: the palette's eight, then hues a golden angle apart (each far from the last few,
 * never the same twice), two lightnesses in turn, so a library of more than eight runs does not repeat a
 * swatch in the table and the charts.
 */
export function runColour(i: number): string {
  const fixed = RUN_COLOURS[i];
  if (fixed !== undefined) return fixed;
  const hue = ((i - RUN_COLOURS.length) * 137.508 + 20) % 360;
  return hslHex(hue, 0.7, i % 2 === 0 ? 0.62 : 0.72);
}

/** An HSL colour as #rrggbb: the charts shade a run's colour per fold, and shade() reads hex. */
function hslHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number): string => {
    const k = (n + h / 30) % 12;
    const v = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(v * 255).toString(16).padStart(2, '0');
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

/**
 * One colour per run that never depends on the selection or the ranking: runs in the order they were made
 * (an id starts with its time, `20261205-090847-…`), colours in turn. No two runs share one.
 */
export function runColours(ids: readonly string[]): Map<string, string> {
  const ordered = [...new Set(ids)].sort();
  return new Map(ordered.map((id, i) => [id, runColour(i)]));
}
