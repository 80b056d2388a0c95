/**
 * The Review queue: the audit's open findings, worst first, one decision at a time with its evidence. A
 * decision is written at once: keep (dismiss the finding), exclude (the duplicates but the keeper, or the
 * broken file), relabel, or skip for now. Label doubts (from the models' out-of-fold probabilities) join the
 * same queue; accepting one is a label event with source 'model-suggestion', undone like any other.
 */
import type { Finding, ImageRow } from '../../../../shared/contract';
import type { DoubtRow } from '../../../../shared/contract-compare';
import { call, errorMessage } from '../api/client';
import { isDuplicate, keeperOf } from '../findings';
import { app } from './app.svelte';
import { jobs } from './jobs.svelte';
import { notices } from './notices.svelte';

export { isDuplicate, keeperOf };

/** Evidence shows at most this many images of one finding (a shortcut can name hundreds). */
const MAX_IMAGES = 12;
/** The queue is read in pages of this many findings, the next one when the person nears the end. */
const QUEUE_PAGE = 200;
/** The largest duplicate group whose members are all read to choose the keeper. */
const GROUP_MAX = 10_000;

export type Decision = 'keep' | 'exclude' | 'relabel' | 'accept' | 'skip';

export class ReviewState {
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
  #doubtJob = $state<string | null>(null);

  get queue(): readonly Finding[] {
    return this.#queue;
  }
  /** Open findings in the whole queue (the pages read so far hold `queue.length`). */
  get total(): number {
    return this.#total;
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
  get decided(): number {
    return Object.values(this.#outcomes).filter((d) => d !== 'skip').length;
  }
  outcome(id: number): Decision | undefined {
    return this.#outcomes[id];
  }
  doubt(findingId: number): DoubtRow | undefined {
    return this.#doubts[findingId];
  }
  /** The running (or last) "Find label doubts" job. */
  get doubtJob(): string | null {
    return this.#doubtJob;
  }
  get findingDoubts(): boolean {
    const job = this.#doubtJob ? jobs.get(this.#doubtJob) : undefined;
    return job?.status === 'running';
  }

  async load(): Promise<void> {
    this.#loading = true;
    try {
      // the server orders the queue (errors first, then by kind and id) and sends it a page at a time
      const page = await call('findings.list', { status: 'open', limit: QUEUE_PAGE });
      this.#queue = page.findings;
      this.#total = page.total;
      this.#cursor = page.nextCursor;
      this.#index = 0;
      this.#outcomes = {};
      this.#error = null;
      await Promise.all([this.#loadImages(), this.#loadDoubts()]);
    } catch (err) {
      this.#error = err instanceof Error ? err.message : String(err);
    } finally {
      this.#loading = false;
    }
  }

  async #loadDoubts(): Promise<void> {
    if (!this.#queue.some((f) => f.kind === 'label-doubt')) return;
    try {
      const rows = await call('doubts.list', {});
      const byFinding: Record<number, DoubtRow> = {};
      for (const r of rows) if (r.findingId !== null) byFinding[r.findingId] = r;
      this.#doubts = byFinding;
    } catch {
      // The finding's own message and detail still describe the doubt.
    }
  }

  /** Starts the K-fold label-doubt computation as a job; its findings join the queue when it ends. */
  async findDoubts(): Promise<void> {
    if (this.findingDoubts) return;
    let jobId: string;
    try {
      jobId = (await call('doubts.start', {})).jobId;
    } catch (err) {
      notices.error(err, 'Label doubts not started');
      return;
    }
    jobs.started(jobId, 'doubts');
    this.#doubtJob = jobId;
    const end = await jobs.finished(jobId);
    if (end.status === 'done') {
      const n = countDoubts(end.result);
      notices.push('info', n === null ? 'Label doubts computed' : `The models doubt ${n} label${n === 1 ? '' : 's'}`);
      await this.load();
    } else if (end.status === 'failed') {
      notices.push('error', `Label doubts failed: ${end.error?.message ?? 'no reason given'}`);
    }
  }

  async undo(): Promise<void> {
    try {
      const r = await call('history.undo', {});
      notices.push('info', `Undid ${r.changed} change${r.changed === 1 ? '' : 's'}`);
    } catch (err) {
      notices.push('error', `Nothing undone: ${errorMessage(err)}`);
    }
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
    const page = await call('findings.list', { status: 'open', limit: QUEUE_PAGE, cursor: this.#cursor });
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
      if (decision === 'keep') await call('findings.decide', { id: f.id, status: 'dismissed' });
      else if (decision === 'exclude') await this.#exclude(f);
      else if (decision === 'relabel') {
        if (!label) throw new Error('choose the class to relabel to');
        const ids = f.imageCount > f.imageIds.length ? (await this.#rowsOf(f, f.imageCount)).map((i) => i.id) : f.imageIds.length > 0 ? f.imageIds : this.#images.map((i) => i.id);
        await call('labels.set', { images: ids, label });
        await call('findings.decide', { id: f.id, status: 'resolved' });
      } else if (decision === 'accept') {
        if (f.kind !== 'label-doubt') throw new Error('only a label doubt has a suggestion to accept');
        const r = await call('doubts.accept', { findingId: f.id });
        notices.push('info', `Relabelled as “${app.displayName(r.label)}” (undo: the Undo button, or z in the Library)`);
      }
      this.#outcomes[f.id] = decision;
    } catch (err) {
      notices.error(err, 'Decision not saved');
      return;
    } finally {
      this.#busy = false;
    }
    // Not busy while the next item's images load: the next key acts on the item already on screen.
    await this.go(this.#index + 1);
  }

  async #exclude(f: Finding): Promise<void> {
    let ids: number[];
    let reason: string;
    if (isDuplicate(f)) {
      // The keeper is chosen from every member, whatever the evidence panel had loaded.
      const members = await this.#rowsOf(f, f.imageCount);
      const keeper = keeperOf(f, members);
      if (keeper === null) throw new Error('no member of this group could be read: nothing excluded');
      ids = members.map((m) => m.id).filter((id) => id !== keeper);
      const keeperName = members.find((i) => i.id === keeper)?.relPath ?? 'the kept image';
      reason = `${f.kind} of ${keeperName}`;
    } else {
      ids = f.imageCount > f.imageIds.length ? (await this.#rowsOf(f, f.imageCount)).map((i) => i.id) : f.imageIds;
      reason = `${f.kind}: ${f.message}`.slice(0, 300);
    }
    if (ids.length > 0) await call('images.exclude', { images: ids, reason });
    await call('findings.decide', { id: f.id, status: 'resolved' });
  }
}

/** The doubts job's result is a DoubtsResult; only its count is read here, defensively (it is `unknown`). */
function countDoubts(result: unknown): number | null {
  if (typeof result !== 'object' || result === null || !('doubts' in result) || !Array.isArray(result.doubts)) return null;
  return result.doubts.length;
}

export const review = new ReviewState();
