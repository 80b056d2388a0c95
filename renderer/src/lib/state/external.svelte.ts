/**
 * "Score on another folder…" in the Compare view: the dialog's open state and last form, the evaluate.start
 * job it follows (progress from jobs.svelte.ts, whose wait asks jobs.get again after a reconnect), and the last
 * result, shown beside the runs until closed. Held by the page only: a reload forgets it (the CLI's
 * `evaluate --out` keeps rows on disk).
 */
import type { MethodInput } from '../../../../shared/contract';
import type { EvaluateResult } from '../../../../shared/contract-evaluate';
import { call, errorMessage } from '../api/client';
import { isEvaluateResult, type EvaluateForm } from '../external-eval';
import { jobs, type JobView } from './jobs.svelte';
import { notices } from './notices.svelte';

const EMPTY_FORM: EvaluateForm = { folder: '', runs: [], classes: ['', ''], perClass: '', seed: '', tta: '', faces: '' };

export class ExternalState {
  #open = $state(false);
  #jobId = $state<string | null>(null);
  #error = $state<string | null>(null);
  #result = $state.raw<EvaluateResult | null>(null);
  /** The form as last submitted: the dialog opens on it again (a second try after a message, another run). */
  #form = $state.raw<EvaluateForm>(EMPTY_FORM);

  get isOpen(): boolean {
    return this.#open;
  }
  get error(): string | null {
    return this.#error;
  }
  get result(): EvaluateResult | null {
    return this.#result;
  }
  get form(): EvaluateForm {
    return this.#form;
  }
  /** The evaluation being followed (or the last one, ended). */
  get job(): JobView | undefined {
    return this.#jobId ? jobs.get(this.#jobId) : undefined;
  }
  get running(): boolean {
    return this.job?.status === 'running';
  }

  open(): void {
    this.#error = null;
    this.#open = true;
  }

  /** Closing leaves a running evaluation going: its bar stays in the header, its result lands here. */
  close(): void {
    this.#open = false;
  }

  /** A message from the dialog itself (what is missing) or from core, shown in the dialog. */
  say(message: string | null): void {
    this.#error = message;
  }

  closeResult(): void {
    this.#result = null;
  }

  /** Starts the job and waits for its end: a result closes the dialog; a refusal or failure is its message. */
  async start(form: EvaluateForm, input: MethodInput<'evaluate.start'>): Promise<void> {
    if (this.running) return;
    this.#form = form;
    this.#error = null;
    let jobId: string;
    try {
      jobId = (await call('evaluate.start', input)).jobId;
    } catch (err) {
      this.#error = errorMessage(err);
      return;
    }
    jobs.started(jobId, 'evaluate');
    this.#jobId = jobId;
    const end = await jobs.finished(jobId);
    if (this.#jobId !== jobId) return;
    if (end.status === 'done' && isEvaluateResult(end.result)) {
      this.#result = end.result;
      this.#open = false;
    } else if (end.status === 'done') {
      this.#error = 'the evaluation ended without a result the page can read';
    } else if (end.status === 'failed') {
      this.#error = end.error?.message ?? 'the evaluation failed';
      if (!this.#open) notices.push('error', `Scoring on ${input.folder} failed: ${this.#error}`);
    } else {
      this.#error = 'the evaluation was cancelled';
    }
  }

  async cancel(): Promise<void> {
    const job = this.#jobId;
    if (!job || !this.running) return;
    await jobs.cancel(job);
  }
}

export const external = new ExternalState();
