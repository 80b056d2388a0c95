/**
 * The Compare view's state: the comparison table for one split (compare.list), the runs a person selected
 * for the overlaid curves (compare.run, runs.get per run, fetched once per split), the run whose confusion
 * matrices are shown, the images behind a clicked cell, and the Grad-CAM of an opened image.
 */
import type { Comparison, EvalSplit, RunEvaluation } from '../../../../shared/contract-compare';
import type { ImageRow, MethodOutput } from '../../../../shared/contract';
import { call, errorMessage, onEvent } from '../api/client';
import { runColours } from '../compare-names';
import { ensembleExplainer } from '../findings';
import { notices } from './notices.svelte';

export type RunDetail = MethodOutput<'runs.get'>;
export type CellKey = 'tp' | 'fp' | 'tn' | 'fn';
export type ThresholdKey = 'atHalf' | 'atYouden';

export interface OpenCell {
  runId: string;
  at: ThresholdKey;
  cell: CellKey;
  threshold: number;
  imageIds: readonly number[];
}

export interface Explanation {
  /** The run whose heatmap this is: the one asked, or for an ensemble its best member. */
  runId: string;
  /** The ensemble asked for, when runId is its member (an ensemble has no weights to explain); else null. */
  ensembleId: string | null;
  image: ImageRow;
  loading: boolean;
  dataUrl: string | null;
  probability: number | null;
  layer: string | null;
  error: string | null;
}

/** Thumbnails fetched for one cell: enough to look through, not a whole split's worth of requests. */
export const CELL_LIMIT = 48;
/** Overlaid curves stay readable up to about this many runs. */
export const MAX_SELECTED = 6;

export class CompareState {
  #split = $state<EvalSplit>('val');
  #comparison = $state.raw<Comparison | null>(null);
  /** Runs trained on data the library no longer has (runs.dataChanged, read with the table). */
  #dataChanged = $state.raw<ReadonlySet<string>>(new Set());
  #loading = $state(false);
  #error = $state<string | null>(null);
  #selected = $state.raw<string[]>([]);
  #focus = $state<string | null>(null);
  #evaluations = $state.raw<Record<string, RunEvaluation>>({});
  #evaluationErrors = $state.raw<Record<string, string>>({});
  #details = $state.raw<Record<string, RunDetail>>({});
  #cell = $state.raw<OpenCell | null>(null);
  #cellImages = $state.raw<ImageRow[]>([]);
  #cellLoading = $state(false);
  #probabilities = $state.raw<Record<string, Record<number, number>>>({});
  #explanation = $state.raw<Explanation | null>(null);
  #busy = $state<string | null>(null);
  #loadedOnce = false;
  /** Runs the next load selects (the Train view's "train all and compare"). */
  #wanted: string[] | null = null;
  #colours = $derived(runColours(this.#comparison?.rows.map((r) => r.id) ?? []));

  constructor() {
    onEvent('job.finished', (f) => {
      // A new run or ensemble belongs in the table the person is looking at.
      if (this.#loadedOnce && (f.kind === 'train' || f.kind === 'ensemble')) void this.load();
    });
  }

  get split(): EvalSplit {
    return this.#split;
  }
  get comparison(): Comparison | null {
    return this.#comparison;
  }
  get dataChanged(): ReadonlySet<string> {
    return this.#dataChanged;
  }
  get loading(): boolean {
    return this.#loading;
  }
  get error(): string | null {
    return this.#error;
  }
  get selected(): readonly string[] {
    return this.#selected;
  }
  get focus(): string | null {
    return this.#focus;
  }
  get cell(): OpenCell | null {
    return this.#cell;
  }
  get cellImages(): readonly ImageRow[] {
    return this.#cellImages;
  }
  get cellLoading(): boolean {
    return this.#cellLoading;
  }
  get explanation(): Explanation | null {
    return this.#explanation;
  }
  /** What is running right now ('ensemble', 'download <id>', 'report'), for disabling its button. */
  get busy(): string | null {
    return this.#busy;
  }

  isSelected(id: string): boolean {
    return this.#selected.includes(id);
  }
  evaluation(id: string): RunEvaluation | undefined {
    return this.#evaluations[this.#key(id)];
  }
  evaluationError(id: string): string | undefined {
    return this.#evaluationErrors[this.#key(id)];
  }
  detail(id: string): RunDetail | undefined {
    return this.#details[id];
  }
  probability(runId: string, imageId: number): number | undefined {
    return this.#probabilities[runId]?.[imageId];
  }
  /** A stable colour per run, whatever is selected and however the table is ranked (compare-names.ts). */
  colour(id: string): string {
    return this.#colours.get(id) ?? '#888';
  }

  /** The next load selects these runs (the best of them focused): call before the view opens. */
  openOn(ids: readonly string[]): void {
    this.#wanted = [...ids];
  }

  #key(id: string): string {
    return `${this.#split}:${id}`;
  }

  async load(): Promise<void> {
    this.#loading = true;
    try {
      const [comparison, changed] = await Promise.all([call('compare.list', { split: this.#split }), call('runs.dataChanged', {}).catch(() => null)]);
      this.#comparison = comparison;
      this.#dataChanged = new Set(changed?.runs ?? []);
      this.#error = null;
      this.#loadedOnce = true;
      const ids = new Set(comparison.rows.map((r) => r.id));
      const wanted = this.#wanted;
      this.#wanted = null;
      let selected = this.#selected.filter((id) => ids.has(id));
      if (wanted !== null) {
        // In the table's order: the best of them first, and it is the one focused.
        selected = comparison.rows.filter((r) => wanted.includes(r.id)).slice(0, MAX_SELECTED).map((r) => r.id);
        if (selected[0] !== undefined) this.#focus = selected[0];
      }
      // First look: the two best runs, so the curves and the DeLong line have something to compare.
      if (selected.length === 0) selected = comparison.rows.slice(0, 2).map((r) => r.id);
      this.#selected = selected;
      if (this.#focus === null || !ids.has(this.#focus)) this.#focus = selected[0] ?? null;
      if (this.#cell && !ids.has(this.#cell.runId)) this.closeCell();
      await this.#fetchSelected();
    } catch (err) {
      this.#error = errorMessage(err);
    } finally {
      this.#loading = false;
    }
  }

  async setSplit(split: EvalSplit): Promise<void> {
    if (split === this.#split) return;
    this.#split = split;
    this.closeCell();
    await this.load();
  }

  async toggle(id: string): Promise<void> {
    if (this.isSelected(id)) {
      this.#selected = this.#selected.filter((s) => s !== id);
      if (this.#focus === id) this.#focus = this.#selected[0] ?? null;
      return;
    }
    if (this.#selected.length >= MAX_SELECTED) {
      notices.push('info', `At most ${MAX_SELECTED} runs at once: the curves stop being readable beyond that.`);
      return;
    }
    this.#selected = [...this.#selected, id];
    this.#focus ??= id;
    await this.#fetchSelected();
  }

  async setFocus(id: string): Promise<void> {
    this.#focus = id;
    if (this.#cell?.runId !== id) this.closeCell();
    if (!this.isSelected(id)) await this.toggle(id);
    else await this.#fetchSelected();
  }

  async #fetchSelected(): Promise<void> {
    const ids = [...this.#selected];
    await Promise.all(ids.map(async (id) => Promise.all([this.#fetchEvaluation(id), this.#fetchDetail(id)])));
  }

  async #fetchEvaluation(id: string): Promise<void> {
    const key = this.#key(id);
    if (this.#evaluations[key]) return;
    const split = this.#split;
    try {
      const ev = await call('compare.run', { id, split });
      this.#evaluations = { ...this.#evaluations, [key]: ev };
      this.#evaluationErrors = Object.fromEntries(Object.entries(this.#evaluationErrors).filter(([k]) => k !== key));
    } catch (err) {
      this.#evaluationErrors = { ...this.#evaluationErrors, [key]: errorMessage(err) };
    }
  }

  async #fetchDetail(id: string): Promise<void> {
    const row = this.#comparison?.rows.find((r) => r.id === id);
    // An ensemble trained nothing: it has no epochs to draw.
    if (this.#details[id] || row?.kind === 'ensemble') return;
    try {
      const detail = await call('runs.get', { id });
      this.#details = { ...this.#details, [id]: detail };
    } catch {
      // Learning curves are a nicety: the row and the evaluation still show without them.
    }
  }

  async openCell(runId: string, at: ThresholdKey, cell: CellKey): Promise<void> {
    const ev = this.evaluation(runId);
    if (!ev) return;
    const conf = ev[at];
    const opened: OpenCell = { runId, at, cell, threshold: conf.threshold, imageIds: conf[cell].imageIds };
    this.#cell = opened;
    this.#cellImages = [];
    this.#cellLoading = true;
    try {
      const [rows] = await Promise.all([
        Promise.all(opened.imageIds.slice(0, CELL_LIMIT).map((image) => call('images.get', { image }).catch(() => null))),
        this.#fetchProbabilities(runId, opened.imageIds.slice(0, CELL_LIMIT)),
      ]);
      if (this.#cell === opened) this.#cellImages = rows.filter((r): r is ImageRow => r !== null);
    } catch (err) {
      notices.error(err, 'Could not read the images of this cell');
    } finally {
      if (this.#cell === opened) this.#cellLoading = false;
    }
  }

  closeCell(): void {
    this.#cell = null;
    this.#cellImages = [];
    this.#cellLoading = false;
  }

  /** The run's probabilities of just these images (a cell shows a few; a run predicts the whole library). */
  async #fetchProbabilities(runId: string, imageIds: readonly number[]): Promise<void> {
    const known = this.#probabilities[runId] ?? {};
    const missing = imageIds.filter((id) => known[id] === undefined);
    if (missing.length === 0) return;
    try {
      const map: Record<number, number> = { ...known };
      for (let i = 0; i < missing.length; i += 1000) {
        const page = await call('runs.predictions', { id: runId, imageIds: missing.slice(i, i + 1000), limit: 1000 });
        for (const p of page.predictions) map[p.imageId] = p.probability;
      }
      this.#probabilities = { ...this.#probabilities, [runId]: map };
    } catch {
      // The probability under a thumbnail is extra; the cell is what the person asked for.
    }
  }

  async explain(asked: string, image: ImageRow): Promise<void> {
    const rows = this.#comparison?.rows ?? [];
    const row = rows.find((r) => r.id === asked);
    const member = row ? ensembleExplainer(row, rows) : null;
    const runId = member ?? asked;
    const opened: Explanation = { runId, ensembleId: member === null ? null : asked, image, loading: true, dataUrl: null, probability: null, layer: null, error: null };
    this.#explanation = opened;
    try {
      const r = await call('runs.explain', { id: runId, imageId: image.id });
      if (this.#explanation === opened) this.#explanation = { ...opened, loading: false, dataUrl: r.dataUrl, probability: r.probability, layer: r.layer };
    } catch (err) {
      if (this.#explanation === opened) this.#explanation = { ...opened, loading: false, error: errorMessage(err) };
    }
  }

  closeExplanation(): void {
    this.#explanation = null;
  }

  /** Averages the selected runs into a new scored run; it joins the table and the selection. */
  async ensemble(name: string): Promise<string | null> {
    if (this.#busy || this.#selected.length < 2) return null;
    this.#busy = 'ensemble';
    try {
      const trimmed = name.trim();
      const { runId } = await call('ensemble.create', { runs: [...this.#selected], ...(trimmed ? { name: trimmed } : {}) });
      notices.push('info', `Ensemble of ${this.#selected.length} runs created`);
      this.#selected = [...this.#selected.slice(0, MAX_SELECTED - 1), runId];
      await this.load();
      return runId;
    } catch (err) {
      notices.error(err, 'Ensemble not created');
      return null;
    } finally {
      this.#busy = null;
    }
  }

  /** Wraps a download so its button shows it is working and its error lands in a notice. */
  async withBusy(what: string, fn: () => Promise<string | null>): Promise<void> {
    if (this.#busy) return;
    this.#busy = what;
    try {
      const where = await fn();
      if (where) notices.push('info', `Saved ${where}`);
    } catch (err) {
      notices.error(err, 'Not saved');
    } finally {
      this.#busy = null;
    }
  }
}

export const compare = new CompareState();
