/**
 * The Library view's state: a filtered list of images read in pages as the grid scrolls (10,000 rows are never
 * fetched at once unless a person selects them all), the selection, and the edits. Every edit is written at
 * once; the grid shows it before the answer arrives and the status line shows when it is stored.
 */
import type { ImageRow } from '../../../../shared/contract';
import { AppError } from '../../../../shared/errors';
import { call, onEvent } from '../api/client';
import { plural } from '../format';
import { DEFAULT_FILTER, toImageFilter, type LibraryFilter } from '../filters';

export type { LibraryFilter };
import { app } from './app.svelte';
import { confirmer } from './confirm.svelte';
import { notices } from './notices.svelte';

export const PAGE_SIZE = 300;

/**
 * An edit the grid shows before or while the server stores it. A page read that began before the edit was
 * stored may carry the old value (a quick second keypress, a `library.changed` from the first): the edit is
 * laid over such a page again, so a row never flips back to a value the person already changed.
 */
interface LocalEdit {
  readonly ids: ReadonlySet<number>;
  readonly patch: (row: ImageRow) => ImageRow;
  /** The clock when the server's answer came back; null while it is on its way. */
  storedAt: number | null;
}

export class LibraryState {
  #filter = $state<LibraryFilter>({ ...DEFAULT_FILTER });
  #total = $state(0);
  #loaded = $state(false);
  #error = $state<string | null>(null);
  /** Bumped whenever a page arrives or a row changes: rowAt() reads it so the grid redraws. */
  #version = $state(0);
  readonly #pages = new Map<number, ImageRow[]>();
  readonly #stale = new Set<number>();
  readonly #inFlight = new Map<number, Promise<void>>();
  #generation = 0;
  /** A counter that orders page reads against stored edits (see LocalEdit). */
  #clock = 0;
  #edits: LocalEdit[] = [];
  /** When each page read in flight began, by the clock. */
  readonly #readsStarted = new Map<number, number>();
  #visible: [number, number] = [0, 0];

  #selection = $state.raw<ReadonlySet<number>>(new Set());
  #focus = $state(0);
  #anchor = 0;
  #pending = $state(0);
  #lastSaveMs = $state<number | null>(null);
  previewOpen = $state(false);
  /** Set by the grid: how many images one row holds (up/down move by this much). */
  columns = $state(1);

  constructor() {
    // a new audit or decision changes the rows' finding badges too: the pages are read again
    onEvent('library.changed', () => this.#markStale());
  }

  get filter(): Readonly<LibraryFilter> {
    return this.#filter;
  }
  get total(): number {
    return this.#total;
  }
  get loaded(): boolean {
    return this.#loaded;
  }
  get error(): string | null {
    return this.#error;
  }
  get selection(): ReadonlySet<number> {
    return this.#selection;
  }
  get focus(): number {
    return this.#focus;
  }
  get pending(): number {
    return this.#pending;
  }
  get lastSaveMs(): number | null {
    return this.#lastSaveMs;
  }

  rowAt(index: number): ImageRow | undefined {
    void this.#version;
    return this.#pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  get focusedRow(): ImageRow | undefined {
    return this.rowAt(this.#focus);
  }

  /** The first page's read, started before the page is drawn (main.ts) and taken over by the first init(). */
  #prefetched: Promise<void> | null = null;

  /** Starts reading the first page before the studio mounts, so the read and the first render overlap. */
  prefetch(): void {
    this.#prefetched ??= this.reload();
  }

  /** The Library view opened: its rows are read again (the first time, the prefetched read is the read). */
  async init(): Promise<void> {
    const prefetched = this.#prefetched;
    this.#prefetched = null;
    await (prefetched ?? this.reload());
  }

  setFilter(patch: Partial<LibraryFilter>): void {
    this.#filter = { ...this.#filter, ...patch };
    this.#selection = new Set();
    this.#focus = 0;
    this.#anchor = 0;
    void this.reload();
  }

  /** Drops every page and reads the first one again (a new filter, or a new library). */
  async reload(): Promise<void> {
    this.#generation++;
    this.#pages.clear();
    this.#stale.clear();
    this.#inFlight.clear();
    this.#readsStarted.clear();
    this.#version++;
    await this.#loadPage(0);
    this.#ensure(this.#visible[0], this.#visible[1]);
  }

  #markStale(): void {
    for (const p of this.#pages.keys()) this.#stale.add(p);
    // Keep showing the old rows until the new ones arrive: no flicker after an edit.
    const [a, b] = this.#visible;
    this.#stale.add(Math.floor(a / PAGE_SIZE));
    this.#ensure(a, b);
  }

  /** The grid says which indices are on screen; missing or stale pages are read. */
  ensureRange(start: number, end: number): void {
    this.#visible = [start, end];
    this.#ensure(start, end);
  }

  #ensure(start: number, end: number): void {
    const last = Math.min(end, Math.max(0, this.#total - 1));
    for (let p = Math.floor(start / PAGE_SIZE); p <= Math.floor(last / PAGE_SIZE); p++) {
      if (!this.#pages.has(p) || this.#stale.has(p)) void this.#loadPage(p);
    }
  }

  #loadPage(page: number): Promise<void> {
    const running = this.#inFlight.get(page);
    if (running) return running;
    const work: Promise<void> = this.#fetchPage(page, this.#generation).finally(() => {
      if (this.#inFlight.get(page) !== work) return;
      this.#inFlight.delete(page);
      this.#readsStarted.delete(page);
      this.#forgetStoredEdits();
      // marked stale again while it was read (an edit stored meanwhile): read what is on screen once more
      const [a, b] = this.#visible;
      this.#ensure(a, b);
    });
    this.#inFlight.set(page, work);
    return work;
  }

  async #fetchPage(page: number, generation: number): Promise<void> {
    try {
      this.#stale.delete(page);
      const began = ++this.#clock;
      this.#readsStarted.set(page, began);
      const result = await call('images.list', { filter: toImageFilter(this.#filter), offset: page * PAGE_SIZE, limit: PAGE_SIZE });
      if (generation !== this.#generation) return;
      this.#pages.set(page, this.#withEdits(result.rows, began));
      if (result.total !== this.#total) {
        this.#total = result.total;
        // Rows moved between pages: every other page is out of date.
        for (const p of this.#pages.keys()) if (p !== page) this.#stale.add(p);
        this.#focus = Math.min(this.#focus, Math.max(0, result.total - 1));
      }
      this.#error = null;
      this.#loaded = true;
      this.#version++;
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#error = err instanceof Error ? err.message : String(err);
      this.#loaded = true;
    }
  }

  async #rowsIn(start: number, end: number): Promise<ImageRow[]> {
    const a = Math.max(0, Math.min(start, end));
    const b = Math.min(this.#total - 1, Math.max(start, end));
    const pages: Array<Promise<void>> = [];
    for (let p = Math.floor(a / PAGE_SIZE); p <= Math.floor(b / PAGE_SIZE); p++) if (!this.#pages.has(p)) pages.push(this.#loadPage(p));
    await Promise.all(pages);
    const rows: ImageRow[] = [];
    for (let i = a; i <= b; i++) {
      const row = this.rowAt(i);
      if (row) rows.push(row);
    }
    return rows;
  }

  // ---------------------------------------------------------------- selection and focus

  /** A click: alone selects, with ctrl/meta toggles, with shift selects the range from the last click. */
  async click(index: number, mods: { shift: boolean; toggle: boolean }): Promise<void> {
    const row = this.rowAt(index);
    if (!row) return;
    this.#focus = index;
    if (mods.shift) {
      const rows = await this.#rowsIn(this.#anchor, index);
      this.#selection = new Set(rows.map((r) => r.id));
      return;
    }
    this.#anchor = index;
    if (mods.toggle) {
      const next = new Set(this.#selection);
      if (next.has(row.id)) next.delete(row.id);
      else next.add(row.id);
      this.#selection = next;
    } else {
      this.#selection = new Set([row.id]);
    }
  }

  async move(delta: number, extend: boolean): Promise<void> {
    if (this.#total === 0) return;
    const next = Math.min(this.#total - 1, Math.max(0, this.#focus + delta));
    this.#focus = next;
    if (extend) {
      const rows = await this.#rowsIn(this.#anchor, next);
      this.#selection = new Set(rows.map((r) => r.id));
      return;
    }
    this.#anchor = next;
    const row = this.rowAt(next);
    this.#selection = row ? new Set([row.id]) : new Set();
  }

  async selectAll(): Promise<void> {
    const rows = await this.#rowsIn(0, this.#total - 1);
    this.#selection = new Set(rows.map((r) => r.id));
  }

  clearSelection(): void {
    this.#selection = new Set();
  }

  /** What an action applies to: the selection, else the focused image. */
  #targets(): number[] {
    if (this.#selection.size > 0) return [...this.#selection];
    const row = this.focusedRow;
    return row ? [row.id] : [];
  }

  #patchRows(ids: ReadonlySet<number>, patch: (row: ImageRow) => ImageRow): LocalEdit {
    for (const page of this.#pages.values()) {
      for (let i = 0; i < page.length; i++) {
        const row = page[i];
        if (row && ids.has(row.id)) page[i] = patch(row);
      }
    }
    this.#version++;
    const edit: LocalEdit = { ids, patch, storedAt: null };
    this.#edits.push(edit);
    return edit;
  }

  /** A page as read, with the edits it may predate laid over it (those not yet stored when the read began). */
  #withEdits(rows: ImageRow[], began: number): ImageRow[] {
    const over = this.#edits.filter((e) => e.storedAt === null || e.storedAt > began);
    if (over.length === 0) return rows;
    return rows.map((row) => over.reduce((r, e) => (e.ids.has(r.id) ? e.patch(r) : r), row));
  }

  /** Edits stored before every read in flight began are in whatever is read from now on. */
  #forgetStoredEdits(): void {
    const oldestRead = Math.min(Infinity, ...this.#readsStarted.values());
    this.#edits = this.#edits.filter((e) => e.storedAt === null || e.storedAt >= oldestRead);
  }

  // ---------------------------------------------------------------- edits

  async #write(edit: LocalEdit, startedAt: number, work: () => Promise<unknown>): Promise<void> {
    this.#pending++;
    try {
      await work();
      edit.storedAt = ++this.#clock;
      this.#lastSaveMs = performance.now() - startedAt;
    } catch (err) {
      this.#edits = this.#edits.filter((e) => e !== edit);
      notices.error(err, 'Not saved');
      this.#markStale();
    } finally {
      this.#pending--;
      this.#forgetStoredEdits();
    }
  }

  /** More than one image changes only after the person said yes (one image: at once, as a key should). */
  async #confirmed(ids: readonly number[], verb: 'Relabel' | 'Exclude' | 'Restore', what: string): Promise<boolean> {
    if (ids.length <= 1) return true;
    const n = ids.length.toLocaleString('en');
    return confirmer.ask({
      title: `${verb} ${n} selected images?`,
      body: `${n} images ${what}. Undo (z) takes it back.`,
      confirm: `${verb} ${n} images`,
    });
  }

  /** The loaded rows of `ids` (an id on a page not read yet is left out). */
  #rowsOf(ids: readonly number[]): ImageRow[] {
    const set = new Set(ids);
    return [...this.#pages.values()].flat().filter((r) => set.has(r.id));
  }

  /**
   * A label on a submission image (the competition's unlabelled test images) is used by nothing: not
   * training, not scoring, not the submission. A key pressed on one by mistake is asked about first.
   * null: no target is a submission image, nothing was asked.
   */
  async #submissionConfirmed(ids: readonly number[], label: string): Promise<boolean | null> {
    const n = this.#rowsOf(ids).filter((r) => r.split === 'submission').length;
    if (n === 0) return null;
    const all = n === ids.length;
    const which = all ? (n === 1 ? 'This image is' : `These ${n.toLocaleString('en')} images are`) : `${plural(n, 'image')} of the ${ids.length.toLocaleString('en')} are`;
    // the title names everything the key changes: a mixed selection is relabelled whole, not only its submission part
    const title = all ? `Label ${n === 1 ? 'a submission image' : `${n.toLocaleString('en')} submission images`}?` : `Relabel ${plural(ids.length, 'selected image')} as “${app.displayName(label)}”?`;
    return confirmer.ask({
      title,
      body: `${which} in the submission split: the unlabelled images a submission file scores. A label there is not used for training, validation or scores, and the submission still scores the image. Undo (z) takes it back.`,
      confirm: `Label as “${app.displayName(label)}”`,
    });
  }

  /** `startedAt`: the keydown's timeStamp, so the status line reports key-to-stored time. */
  async label(label: string, startedAt = performance.now()): Promise<void> {
    const ids = this.#targets();
    if (ids.length === 0) return;
    // one question: the submission one (it names the count) stands for the bulk one
    const ok = (await this.#submissionConfirmed(ids, label)) ?? (await this.#confirmed(ids, 'Relabel', `get the label “${app.displayName(label)}”`));
    if (!ok) return;
    const edit = this.#patchRows(new Set(ids), (r) => ({ ...r, label }));
    await this.#write(edit, startedAt, () => call('labels.set', { images: ids, label }));
  }

  /** x: excludes the targets, or restores them when every one is already excluded. */
  async toggleExcluded(startedAt = performance.now()): Promise<void> {
    const ids = this.#targets();
    if (ids.length === 0) return;
    const set = new Set(ids);
    const rows = this.#rowsOf(ids);
    const restore = rows.length > 0 && rows.every((r) => r.excluded);
    if (!(await this.#confirmed(ids, restore ? 'Restore' : 'Exclude', restore ? 'return to training and evaluation' : 'leave training and evaluation (the files stay)'))) return;
    const edit = this.#patchRows(set, (r) => ({ ...r, excluded: !restore, excludeReason: restore ? null : 'excluded in the library view' }));
    await this.#write(edit, startedAt, () =>
      restore ? call('images.restore', { images: ids }) : call('images.exclude', { images: ids, reason: 'excluded in the library view' }),
    );
  }

  async exclude(reason: string): Promise<void> {
    const ids = this.#targets();
    if (ids.length === 0) return;
    if (!(await this.#confirmed(ids, 'Exclude', 'leave training and evaluation (the files stay)'))) return;
    const edit = this.#patchRows(new Set(ids), (r) => ({ ...r, excluded: true, excludeReason: reason }));
    await this.#write(edit, performance.now(), () => call('images.exclude', { images: ids, reason }));
  }

  async restore(): Promise<void> {
    const ids = this.#targets();
    if (ids.length === 0) return;
    if (!(await this.#confirmed(ids, 'Restore', 'return to training and evaluation'))) return;
    const edit = this.#patchRows(new Set(ids), (r) => ({ ...r, excluded: false, excludeReason: null }));
    await this.#write(edit, performance.now(), () => call('images.restore', { images: ids }));
  }

  async undo(redo = false): Promise<void> {
    const startedAt = performance.now();
    this.#pending++;
    try {
      const r = redo ? await call('history.redo', {}) : await call('history.undo', {});
      this.#lastSaveMs = performance.now() - startedAt;
      notices.push('info', `${redo ? 'Redid' : 'Undid'} ${r.changed} change${r.changed === 1 ? '' : 's'}`);
    } catch (err) {
      // an empty history is a fact, not a failure: said as information
      if (err instanceof AppError && err.code === 'CONFLICT') notices.push('info', `${redo ? 'Nothing redone' : 'Nothing undone'}: ${err.message}`);
      else notices.error(err, redo ? 'Nothing redone' : 'Nothing undone');
    } finally {
      this.#pending--;
    }
  }
}

export const library = new LibraryState();
