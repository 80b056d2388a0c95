/**
 * The Review queue: the audit's open findings, worst first, one decision at a time with its evidence. A
 * decision is written at once: keep (dismiss the finding), exclude (the duplicates but the keeper, or the
 * broken file), relabel, or skip for now; a change to more than one image is confirmed first. Label doubts
 * (from the models' out-of-fold probabilities) join the same queue; accepting one is a label event with
 * source 'model-suggestion', asked twice because the models are often wrong. Undo takes back the last
 * decision: its label or exclusion change, and the finding is open again.
 */
import type { Finding, FindingKind, HistoryEntry, ImageRow } from '../../../../shared/contract';
import type { DoubtRow, DoubtsInfo } from '../../../../shared/contract-compare';
import { call, errorMessage } from '../api/client';
import { bulkQuestion, changeableOf, explainRunFor, isDuplicate, keeperOf, type ExplainRun } from '../findings';
import { app, type ReviewTarget } from './app.svelte';
import { confirmer } from './confirm.svelte';
import { DoubtsJob } from './doubts-job.svelte';
import { notices } from './notices.svelte';

export { isDuplicate, keeperOf };

/** A decision this session made, so Undo can take it back (its library change, then the finding's status). */
interface Made {
  findingId: number;
  index: number;
  decision: Decision;
  /** The history batch it wrote; null when it changed no image (keep). */
  batch: number | null;
}
/** Evidence shows at most this many images of one finding (a shortcut can name hundreds). */
const MAX_IMAGES = 12;
/** The queue is read in pages of this many findings, the next one when the person nears the end. */
const QUEUE_PAGE = 200;
/** The largest duplicate group whose members are all read to choose the keeper. */
const GROUP_MAX = 10_000;

export type Decision = 'keep' | 'exclude' | 'relabel' | 'accept' | 'skip';

export class ReviewState {
  /** The kind the queue shows (null: every kind), and how many open findings each kind has. */
  #kind = $state<FindingKind | null>(null);
  #kinds = $state.raw<Array<{ kind: FindingKind; count: number }>>([]);
  /** The image whose findings alone the queue shows (opened from the Library's "!" badge), else null. */
  #image = $state.raw<ReviewTarget | null>(null);
  #queue = $state.raw<Finding[]>([]);
  #total = $state(0);
  #cursor: string | null = null;
  #index = $state(0);
  #outcomes = $state<Record<number, Decision>>({});
  #images = $state.raw<ImageRow[]>([]);
  #loading = $state(true);
  #busy = $state(false);
  #error = $state<string | null>(null);
  /** label-doubt findings' numbers (given, suggested, p), by finding id. */
  #doubts = $state.raw<Record<number, DoubtRow>>({});
  #doubtsInfo = $state.raw<DoubtsInfo | null>(null);
  /** The run whose Grad-CAM a doubt's evidence offers (explainRunFor). */
  #explainRun = $state.raw<ExplainRun | null>(null);
  #made: Made[] = [];

  /** "Find label doubts": its job; the queue reloads with the doubts it found. */
  readonly doubtsJob = new DoubtsJob(() => this.load());

  get queue(): readonly Finding[] {
    return this.#queue;
  }
  /** Open findings in the queue shown (the pages read so far hold `queue.length`). */
  get total(): number {
    return this.#total;
  }
  get kind(): FindingKind | null {
    return this.#kind;
  }
  /** Open findings per kind, in queue order, for the kind filter (counted by the server with the first page). */
  get kinds(): ReadonlyArray<{ kind: FindingKind; count: number }> {
    return this.#kinds;
  }
  /** The image whose findings alone the queue shows (the Library's "!" badge), else null. */
  get image(): ReviewTarget | null {
    return this.#image;
  }
  /** Shows the findings of one image (every kind), or with null the whole queue again; then reads the queue. */
  async setImage(image: ReviewTarget | null): Promise<void> {
    this.#image = image;
    if (image !== null) this.#kind = null;
    await this.load();
  }
  /** Shows only one kind (null: every kind) from its first finding. */
  async setKind(kind: FindingKind | null): Promise<void> {
    this.#kind = kind;
    await this.load();
  }
  get index(): number {
    return this.#index;
  }
  get current(): Finding | undefined {
    return this.#queue[this.#index];
  }
  get images(): readonly ImageRow[] {
    return this.#images;
  }
  get loading(): boolean {
    return this.#loading;
  }
  get busy(): boolean {
    return this.#busy;
  }
  get error(): string | null {
    return this.#error;
  }
  /** Decisions (not skips) on the findings of the queue shown. */
  get decided(): number {
    return this.#queue.filter((f) => this.#isDecided(f.id)).length;
  }
  /** The first finding of the queue shown that was skipped or not reached, or null when all are decided. */
  get firstUndecided(): number | null {
    const i = this.#queue.findIndex((f) => !this.#isDecided(f.id));
    return i < 0 ? null : i;
  }
  /** A decision, not a skip, was made on this finding here. */
  #isDecided(id: number): boolean {
    const d = this.#outcomes[id];
    return d !== undefined && d !== 'skip';
  }
  outcome(id: number): Decision | undefined {
    return this.#outcomes[id];
  }
  doubt(findingId: number): DoubtRow | undefined {
    return this.#doubts[findingId];
  }
  /** The last label-doubt computation: which model, its out-of-fold AUC. */
  get doubtsInfo(): DoubtsInfo | null {
    return this.#doubtsInfo;
  }
  get explainRun(): ExplainRun | null {
    return this.#explainRun;
  }
  async load(): Promise<void> {
    this.#loading = true;
    try {
      // the server orders the queue (errors first, then by kind and id) and sends it a page at a time
      let page = await call('findings.list', { status: 'open', limit: QUEUE_PAGE, ...this.#scope() });
      if (this.#kind !== null && page.total === 0) {
        this.#kind = null;
        page = await call('findings.list', { status: 'open', limit: QUEUE_PAGE, ...this.#scope() });
      }
      this.#queue = page.findings;
      this.#total = page.total;
      this.#cursor = page.nextCursor;
      this.#kinds = page.kinds;
      this.#index = 0;
      this.#outcomes = {};
      this.#made = [];
      this.#error = null;
      await Promise.all([this.#loadImages(), this.#loadDoubts()]);
    } catch (err) {
      this.#error = err instanceof Error ? err.message : String(err);
    } finally {
      this.#loading = false;
    }
  }

  /** The queue's filters besides the status: its kind and its image. */
  #scope(): { kind?: FindingKind; imageId?: number } {
    return { ...(this.#kind ? { kind: this.#kind } : {}), ...(this.#image ? { imageId: this.#image.id } : {}) };
  }

  async #loadDoubts(): Promise<void> {
    if (!this.#queue.some((f) => f.kind === 'label-doubt')) return;
    try {
      const [rows, info, runs] = await Promise.all([call('doubts.list', {}), call('doubts.info', {}), call('runs.list', {})]);
      const byFinding: Record<number, DoubtRow> = {};
      for (const r of rows) if (r.findingId !== null) byFinding[r.findingId] = r;
      this.#doubts = byFinding;
      this.#doubtsInfo = info;
      this.#explainRun = explainRunFor(info, runs);
    } catch {
      // The finding's own message and detail still describe the doubt.
    }
  }

  /**
   * Takes back the last decision made here: its change to the library (when it is still the last one) and
   * the finding's status, and shows the finding again. Without one, undoes the library's last change.
   */
  async undo(): Promise<void> {
    const last = this.#made.at(-1);
    try {
      // the batch history.undo would take back, read once: compared with this page's last decision, and named when it is another's
      const next = !last || last.batch !== null ? await this.#nextUndo() : [];
      if (!last || (last.batch !== null && (next[0]?.batch ?? null) !== last.batch)) {
        // not a decision made here (the Library's, or one before a reload): said and asked first
        if (!(await this.#askUndoOther(next))) return;
        const r = await call('history.undo', {});
        notices.push('info', `Undid ${r.changed} change${r.changed === 1 ? '' : 's'}`);
        return;
      }
      const r = last.batch !== null ? await call('history.undo', {}) : { changed: 0 };
      await call('findings.decide', { id: last.findingId, status: 'open' });
      this.#made.pop();
      delete this.#outcomes[last.findingId];
      const kind = this.#queue.find((q) => q.id === last.findingId)?.kind;
      if (kind) this.#countOpen(kind, +1);
      const what = r.changed > 0 ? `Undid ${r.changed} change${r.changed === 1 ? '' : 's'}` : `Undid “${last.decision}”`;
      notices.push('info', `${what}; the finding is open again`);
      await this.go(last.index);
    } catch (err) {
      notices.push('error', `Nothing undone: ${errorMessage(err)}`);
    }
  }

  /** Keeps the kind filter's open counts true as decisions close findings and Undo opens them again. */
  #countOpen(kind: FindingKind, delta: number): void {
    this.#kinds = this.#kinds.map((k) => (k.kind === kind ? { kind, count: Math.max(0, k.count + delta) } : k));
  }

  /** The changes `history.undo` would take back: the newest batch done by a person (imports are not undone). */
  async #nextUndo(): Promise<HistoryEntry[]> {
    const recent = (await call('history.list', { limit: 200 })).entries;
    const batch = recent.find((h) => h.state === 'done' && h.source !== 'import')?.batch;
    return batch === undefined ? [] : recent.filter((h) => h.batch === batch && h.state === 'done');
  }

  /** Names the library change Undo would take back when it is not a Review decision of this page, and asks. */
  async #askUndoOther(next: readonly HistoryEntry[]): Promise<boolean> {
    const first = next[0];
    if (!first) {
      notices.push('info', 'Nothing to undo');
      return false;
    }
    const value = (h: HistoryEntry, v: string | null): string =>
      h.kind === 'exclusion' ? (v === null ? 'included' : `excluded (${v})`) : v === null ? 'no label' : `“${app.displayName(v)}”`;
    const what = `${first.image}: ${value(first, first.oldValue)} → ${value(first, first.newValue)}${next.length > 1 ? `, and ${next.length - 1} more image${next.length > 2 ? 's' : ''}` : ''}`;
    return confirmer.ask({
      title: 'Undo the last change to the library?',
      body: `It is not a decision made in this Review: ${what} (${first.source === 'user' ? 'made in the Library' : first.source}, ${new Date(first.at).toLocaleString()}).`,
      confirm: 'Undo it',
    });
  }

  async #loadImages(): Promise<void> {
    const f = this.current;
    // Never show one finding with another's images.
    this.#images = [];
    if (!f) return;
    const rows = await this.#rowsOf(f, MAX_IMAGES);
    if (this.current?.id === f.id) {
      this.#images = rows;
    }
  }

  /** A finding's images in one call (however many it names), at most `limit`. */
  async #rowsOf(f: Finding, limit: number): Promise<ImageRow[]> {
    if (f.imageCount === 0) return [];
    return (await call('images.list', { filter: { findingId: f.id }, limit: Math.max(1, Math.min(limit, GROUP_MAX)) })).rows;
  }

  /** Reads the next page of the queue when the person is within a few items of the end of what is loaded. */
  async #more(index: number): Promise<void> {
    if (this.#cursor === null || index < this.#queue.length - 5) return;
    const page = await call('findings.list', { status: 'open', limit: QUEUE_PAGE, cursor: this.#cursor, ...this.#scope() });
    this.#queue = [...this.#queue, ...page.findings];
    this.#cursor = page.nextCursor;
  }

  async go(index: number): Promise<void> {
    try {
      await this.#more(index);
    } catch (err) {
      notices.error(err, 'Could not read more of the queue');
    }
    this.#index = Math.max(0, Math.min(this.#queue.length, index));
    await this.#loadImages();
  }

  async decide(decision: Decision, label?: string): Promise<void> {
    const f = this.current;
    if (!f || this.#busy) return;
    this.#busy = true;
    try {
      const batch = await this.#apply(f, decision, label);
      if (batch === false) return; // the person said no: nothing changed, the finding stays on screen
      this.#outcomes[f.id] = decision;
      if (decision !== 'skip') {
        this.#made.push({ findingId: f.id, index: this.#index, decision, batch });
        this.#countOpen(f.kind, -1);
      }
    } catch (err) {
      notices.error(err, 'Decision not saved');
      return;
    } finally {
      this.#busy = false;
    }
    // Not busy while the next item's images load: the next key acts on the item already on screen.
    await this.go(this.#index + 1);
  }

  /** Writes one decision; the history batch it made (null: none), or false when the person cancelled. */
  async #apply(f: Finding, decision: Decision, label?: string): Promise<number | null | false> {
    if (decision === 'skip') return null;
    if (decision === 'keep') {
      await call('findings.decide', { id: f.id, status: 'dismissed' });
      return null;
    }
    if (decision === 'exclude') return this.#exclude(f);
    if (decision === 'relabel') return this.#relabel(f, label);
    if (f.kind !== 'label-doubt') throw new Error('only a label doubt has a suggestion to accept');
    if (!(await this.#confirmAccept(f))) return false;
    const r = await call('doubts.accept', { findingId: f.id });
    notices.push('info', `Relabelled as “${app.displayName(r.label)}” (Undo takes it back)`);
    return r.batch;
  }

  async #relabel(f: Finding, label: string | undefined): Promise<number | null | false> {
    if (!label) throw new Error('choose the class to relabel to');
    const rows = await this.#rowsOf(f, f.imageCount);
    const test = rows.find((r) => r.split === 'submission');
    if (test) throw new Error(`${test.relPath} is a submission (unlabelled test) image: models predict it, nobody labels it`);
    const ids = rows.map((r) => r.id);
    if (ids.length === 0) throw new Error('this finding names no image of the library, so there is nothing to relabel');
    const name = app.displayName(label);
    const ask = bulkQuestion(ids.length, 'Relabel', `as “${name}”`);
    if (ask) {
      // The evidence holds the labels of the images it shows: say how many really change when it shows them all.
      const shown = this.#images.filter((i) => ids.includes(i.id));
      const changing = shown.length === ids.length ? ` (${shown.filter((i) => i.label !== label).length} of them change)` : '';
      if (!(await confirmer.ask({ ...ask, body: `Every image of this ${f.kind} finding gets the label “${name}”${changing}. Undo takes it back.` }))) return false;
    }
    const r = await call('labels.set', { images: ids, label });
    await call('findings.decide', { id: f.id, status: 'resolved' });
    return r.batch;
  }

  /** The person sees the models' evidence again and says yes: a suggestion is not accepted by one key. */
  async #confirmAccept(f: Finding): Promise<boolean> {
    const d = this.#doubts[f.id];
    const given = d?.given ?? String(f.detail['given'] ?? '?');
    const suggested = d?.suggested ?? String(f.detail['suggested'] ?? '?');
    const info = this.#doubtsInfo;
    const model = info ? `${info.model}${info.oofAuc !== null ? ` (out-of-fold AUC ${info.oofAuc.toFixed(3)})` : ''}` : 'the models';
    const p = d ? ` gives “${app.displayName(given)}” p = ${d.probability.toFixed(3)} (doubt ${d.rank} of ${info?.doubts ?? '?'})` : ' doubts it';
    return confirmer.ask({
      title: `Relabel ${f.images[0] ?? 'this image'} as “${app.displayName(suggested)}”?`,
      body: `It is labelled “${app.displayName(given)}”; ${model}${p}. Look at the image: the models are often wrong on the top doubts.`,
      confirm: `Relabel as “${app.displayName(suggested)}”`,
    });
  }

  async #exclude(f: Finding): Promise<number | null | false> {
    // Every member is read: the keeper is chosen from all of them, and submission images are never excluded.
    const members = await this.#rowsOf(f, f.imageCount);
    const ids = changeableOf(f, members).map((m) => m.id);
    let reason = `${f.kind}: ${f.message}`.slice(0, 300);
    if (isDuplicate(f)) {
      const keeper = keeperOf(f, members);
      if (keeper === null) throw new Error('no member of this group could be read: nothing excluded');
      reason = `${f.kind} of ${members.find((i) => i.id === keeper)?.relPath ?? 'the kept image'}`;
    }
    if (ids.length === 0 && members.some((m) => m.split === 'submission')) throw new Error('only submission (unlabelled test) images are left: they stay, so the submission keeps their rows');
    const ask = bulkQuestion(ids.length, 'Exclude', '');
    if (ask && !(await confirmer.ask({ ...ask, body: `${ids.length} images leave training and evaluation (the files stay where they are). Undo takes it back.` }))) return false;
    const r = ids.length > 0 ? await call('images.exclude', { images: ids, reason }) : null;
    await call('findings.decide', { id: f.id, status: 'resolved' });
    return r?.batch ?? null;
  }
}

export const review = new ReviewState();
