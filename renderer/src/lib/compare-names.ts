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
