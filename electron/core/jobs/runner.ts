/**
 * Long work as jobs: `start` returns an id at once; the work pushes throttled `job.progress` events and ends
 * with exactly one `job.finished` (done, failed or cancelled). Every job is a row in SQLite, so a job that
 * was running when its process died is found and marked interrupted whenever jobs are read.
 */
import { randomUUID } from 'node:crypto';
import type { EventMessage, EventPayload, JobInfo, JobState } from '../../../shared/contract';
import { TrainInput } from '../../../shared/contract-train';
import { AppError, toErrorPayload } from '../../../shared/errors';
import type { Db } from '../db/open';
import { ownStartKey, processGone } from './process-identity';
import { throttledProgress } from './progress';

export interface JobContext {
  jobId: string;
  signal: AbortSignal;
  progress: (phase: string, done: number, total: number, metrics?: Record<string, number>) => void;
}

export type Emit = (event: EventMessage) => void;

type JobStep = NonNullable<EventPayload<'job.finished'>['last']>;

interface Running {
  kind: string;
  controller: AbortController;
  promise: Promise<unknown>;
  /** In the queue of heavy jobs (start's `queue`): it waits for the ones started before it. */
  queued: boolean;
  /** The last step it reported (or what it waits for): a page loaded after the event reads it from list/get. */
  last: JobStep | null;
}

export interface StartOptions {
  /**
   * A heavy job (a training, label doubts, an evaluation): it waits until every heavy job started before it
   * here has ended, so two never share the machine's cores (each would take twice as long, and a doubts
   * computation beside a training made the studio's thumbnails take seconds). While it waits its phase says
   * what it waits for; cancelling it then ends it without it having run.
   */
  queue?: boolean;
  /** Called when the job is cancelled while waiting its turn (its work never ran): to end what start made. */
  cancelledWaiting?: () => void;
}

/** The phase of a job waiting its turn: "waiting for a training run (job 1a2b3c4d) to end". */
export function waitingPhase(kind: string, jobId: string): string {
  return `waiting for ${WAITED_FOR[kind] ?? kind} (job ${jobId.slice(0, 8)}) to end`;
}
const WAITED_FOR: Record<string, string> = { train: 'a training run', doubts: 'a label doubts computation', evaluate: 'an evaluation' };

/** Resolves when `p` settles, rejects with an AbortError when `signal` aborts first. */
function settledOrAborted(p: Promise<unknown>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = (): void => reject(Object.assign(new Error('cancelled while waiting its turn'), { name: 'AbortError' }));
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    p.then(
      () => resolve(),
      () => resolve(),
    ).finally(() => signal.removeEventListener('abort', abort));
  });
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { code?: string }).code === 'CANCELLED');
}

/**
 * Jobs left 'running' by a process that is gone (a crash, a kill -9, a pid since reused) become
 * 'interrupted', with the reason. Whatever the job had committed stays (an import's stored rows, the
 * previous doubts); a re-run completes it.
 */
export function markInterruptedJobs(db: Db): void {
  const stale = db.prepare("SELECT id, pid, pid_start FROM jobs WHERE status = 'running'").all() as Array<{ id: string; pid: number; pid_start: string | null }>;
  for (const job of stale) {
    if (!processGone(job.pid, job.pid_start)) continue;
    db.prepare("UPDATE jobs SET status = 'interrupted', error = ?, finished_at = ? WHERE id = ? AND status = 'running'").run(
      'interrupted: the process running it stopped (killed, crashed or the machine went down)',
      new Date().toISOString(),
      job.id,
    );
  }
}

const INFO_COLUMNS = 'id, kind, status, created_at, finished_at, error, input';
interface InfoRow {
  id: string;
  kind: string;
  status: JobInfo['status'];
  created_at: string;
  finished_at: string | null;
  error: string | null;
  input: string | null;
}
/** What a job's stored input says of the run it trains (a training job's): the run id and the settings asked; else nulls. */
function trainingOf(kind: string, input: string | null): Pick<JobInfo, 'runId' | 'train'> {
  const parsed = input === null ? null : (JSON.parse(input) as unknown);
  if (parsed === null || typeof parsed !== 'object' || !('runId' in parsed)) return { runId: null, train: null };
  const settings = kind === 'train' ? TrainInput.safeParse(parsed) : null;
  return { runId: typeof parsed.runId === 'string' ? parsed.runId : null, train: settings?.success ? settings.data : null };
}
function toInfo(r: InfoRow): JobInfo {
  return { id: r.id, kind: r.kind, status: r.status, createdAt: r.created_at, finishedAt: r.finished_at, error: r.error, ...trainingOf(r.kind, r.input) };
}

export class JobRunner {
  readonly #db: Db;
  readonly #emit: Emit;
  readonly #running = new Map<string, Running>();

  constructor(db: Db, emit: Emit) {
    this.#db = db;
    this.#emit = emit;
    markInterruptedJobs(db);
  }

  start<T>(kind: string, input: unknown, work: (ctx: JobContext) => Promise<T>, opts: StartOptions = {}): string {
    const jobId = randomUUID();
    const controller = new AbortController();
    const queued = opts.queue === true;
    // the heavy jobs already here, in start order: this one's turn comes when they have all ended
    const ahead = queued ? [...this.#running].filter(([, r]) => r.queued) : [];
    this.#db
      .prepare("INSERT INTO jobs (id, kind, status, input, pid, pid_start, created_at) VALUES (?, ?, 'running', ?, ?, ?, ?)")
      .run(jobId, kind, JSON.stringify(input ?? null), process.pid, ownStartKey(), new Date().toISOString());
    const throttled = throttledProgress((p) => this.#emit({ name: 'job.progress', payload: { jobId, kind, ...p } }));
    // the last step the work reached, throttled or not: job.finished carries it, so a cancelled job reads
    // "57 / 232 done", not a full bar
    const entry: Running = { kind, controller, promise: Promise.resolve(), queued, last: null };
    const report: JobContext['progress'] = (phase, done, total, metrics) => {
      entry.last = { phase, done, total };
      throttled(phase, done, total, metrics);
    };
    entry.promise = (async () => {
      // Let the caller receive the id before the first event.
      await Promise.resolve();
      try {
        for (const [id, r] of ahead) {
          const phase = waitingPhase(r.kind, id);
          entry.last = { phase, done: 0, total: 0 };
          this.#emit({ name: 'job.progress', payload: { jobId, kind, phase, done: 0, total: 0, etaMs: null } });
          try {
            await settledOrAborted(r.promise, controller.signal);
          } catch (err) {
            opts.cancelledWaiting?.();
            throw err;
          }
        }
        const result = await work({ jobId, signal: controller.signal, progress: report });
        this.#finish(jobId, kind, controller.signal.aborted ? 'cancelled' : 'done', result, null, entry.last);
      } catch (err) {
        const cancelled = controller.signal.aborted || isAbort(err);
        this.#finish(jobId, kind, cancelled ? 'cancelled' : 'failed', undefined, cancelled ? null : toErrorPayload(err), entry.last);
      } finally {
        this.#running.delete(jobId);
      }
    })();
    this.#running.set(jobId, entry);
    return jobId;
  }

  #finish(
    jobId: string,
    kind: string,
    status: 'done' | 'failed' | 'cancelled',
    result: unknown,
    error: { code: string; message: string } | null,
    last: JobStep | null,
  ): void {
    this.#db
      .prepare('UPDATE jobs SET status = ?, result = ?, error = ?, finished_at = ? WHERE id = ?')
      .run(status, result === undefined ? null : JSON.stringify(result), error?.message ?? null, new Date().toISOString(), jobId);
    this.#emit({
      name: 'job.finished',
      payload: { jobId, kind, status, ...(result !== undefined ? { result } : {}), ...(error ? { error } : {}), ...(last ? { last } : {}) },
    });
  }

  cancel(jobId: string): boolean {
    const job = this.#running.get(jobId);
    if (!job) return false;
    job.controller.abort();
    return true;
  }

  /**
   * Refuses to start a second job of `kind` while one runs here: two trainings (or two doubt computations)
   * would share the machine's cores and write the same library's rows, and a page reloaded mid-job could
   * not tell them apart. `what` names the work in the message.
   */
  refuseSecond(kind: string, what: string): void {
    for (const [jobId, job] of this.#running) {
      if (job.kind === kind) throw new AppError('CONFLICT', `${what} is already under way (job ${jobId.slice(0, 8)}): cancel it or wait for it to end`);
    }
  }

  /** Resolves when the job has ended (whatever its status). */
  async wait(jobId: string): Promise<void> {
    await this.#running.get(jobId)?.promise;
  }

  list(limit = 100): JobInfo[] {
    markInterruptedJobs(this.#db);
    const rows = this.#db.prepare(`SELECT ${INFO_COLUMNS} FROM jobs ORDER BY created_at DESC LIMIT ?`).all(limit) as InfoRow[];
    return rows.map((r) => this.#withStep(toInfo(r)));
  }

  /** One job with its result, from the table (a page that missed its job.finished asks this). */
  get(jobId: string): JobState {
    markInterruptedJobs(this.#db);
    const row = this.#db.prepare(`SELECT ${INFO_COLUMNS}, result FROM jobs WHERE id = ?`).get(jobId) as (InfoRow & { result: string | null }) | undefined;
    if (!row) throw new AppError('NOT_FOUND', `no job ${jobId} in this library`);
    return { ...this.#withStep(toInfo(row)), ...(row.result !== null ? { result: JSON.parse(row.result) as unknown } : {}) };
  }

  /** A job running here says its last step (a job of another process, or ended, has none). */
  #withStep(info: JobInfo): JobInfo {
    const last = info.status === 'running' ? (this.#running.get(info.id)?.last ?? null) : null;
    return last === null ? info : { ...info, step: last };
  }

  cancelAll(): void {
    for (const job of this.#running.values()) job.controller.abort();
  }
}
