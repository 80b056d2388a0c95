/** Insights: the numbers behind the data (stats.get), shortcut warnings, and a few samples per class. */
import type { Finding, ImageRow, Stats } from '../../../../shared/contract';
import { call, onEvent } from '../api/client';

export interface SizePoint {
  w: number;
  h: number;
  bytes: number;
  label: string | null;
}

const SCATTER_LIMIT = 10_000;
const SAMPLES = 8;

export class InsightsState {
  #stats = $state.raw<Stats | null>(null);
  #shortcuts = $state.raw<Finding[]>([]);
  #points = $state.raw<SizePoint[]>([]);
  #samples = $state.raw<Record<string, ImageRow[]>>({});
  #error = $state<string | null>(null);
  #loading = $state(false);
  #stale = true;

  constructor() {
    onEvent('library.changed', () => (this.#stale = true));
  }

  get stats(): Stats | null {
    return this.#stats;
  }
  get shortcuts(): readonly Finding[] {
    return this.#shortcuts;
  }
  get points(): readonly SizePoint[] {
    return this.#points;
  }
  get samples(): Readonly<Record<string, ImageRow[]>> {
    return this.#samples;
  }
  get error(): string | null {
    return this.#error;
  }
  get loading(): boolean {
    return this.#loading;
  }

  async load(classes: readonly string[], force = false): Promise<void> {
    if (!force && !this.#stale && this.#stats) return;
    this.#loading = true;
    try {
      const [stats, shortcuts, sized] = await Promise.all([
        call('stats.get', {}),
        call('findings.list', { kind: 'shortcut' }),
        call('images.list', { filter: { excluded: false }, offset: 0, limit: SCATTER_LIMIT }),
      ]);
      const samples: Record<string, ImageRow[]> = {};
      await Promise.all(
        classes.map(async (c) => {
          const rows = (await call('images.list', { filter: { label: c, excluded: false }, offset: 0, limit: SAMPLES * 2 })).rows;
          samples[c] = rows.filter((r) => r.decodeStatus === 'ok' && !r.missing).slice(0, SAMPLES);
        }),
      );
      this.#stats = stats;
      this.#shortcuts = shortcuts.findings;
      this.#points = sized.rows.filter((r) => r.width !== null && r.height !== null).map((r) => ({ w: r.width ?? 0, h: r.height ?? 0, bytes: r.bytes, label: r.label }));
      this.#samples = samples;
      this.#error = null;
      this.#stale = false;
    } catch (err) {
      this.#error = err instanceof Error ? err.message : String(err);
    } finally {
      this.#loading = false;
    }
  }
}

export const insights = new InsightsState();
