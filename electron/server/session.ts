/**
 * One open library with its job runner and its event fan-out: what both the Electron main process and
 * `serve` put behind their transports. `call` never throws: every outcome is a CallReply.
 */
import type { EventMessage } from '../../shared/contract';
import { toErrorPayload } from '../../shared/errors';
import type { CoreContext } from '../core/api/context';
import { dispatch } from '../core/api/dispatch';
import { JobRunner } from '../core/jobs/runner';
import type { Library } from '../core/library';
import type { DataRoots } from '../core/paths/data-roots';
import type { CallReply } from '../preload/bridge';
import { ImageStore } from './images';

/** The built desktop core (out/main/session.js) hands main and its tests the same class. */
export { DataRoots } from '../core/paths/data-roots';

export type EventListener = (event: EventMessage) => void;

export interface SessionOptions {
  log?: (line: string) => void;
  /** The folders a page's paths may name (import, a weights file); none when not given. */
  readRoots?: DataRoots;
}

export class CoreSession {
  readonly lib: Library;
  readonly images: ImageStore;
  readonly #ctx: CoreContext;
  readonly #listeners = new Set<EventListener>();
  readonly #log: (line: string) => void;

  constructor(lib: Library, options: SessionOptions = {}) {
    this.lib = lib;
    this.#log = options.log ?? ((l) => process.stderr.write(`${l}\n`));
    const emit = (event: EventMessage) => {
      for (const listener of this.#listeners) {
        try {
          listener(event);
        } catch (err) {
          this.#log(`event listener failed: ${(err as Error).message}`);
        }
      }
    };
    this.#ctx = { lib, jobs: new JobRunner(lib.db, emit), emit, ...(options.readRoots ? { readRoots: options.readRoots } : {}) };
    this.images = new ImageStore(lib);
  }

  async call(method: string, input: unknown): Promise<CallReply> {
    try {
      return { ok: true, value: await dispatch(this.#ctx, method, input) };
    } catch (err) {
      const error = toErrorPayload(err);
      if (error.code === 'INTERNAL') this.#log(`${method} failed: ${(err as Error).stack ?? error.message}`);
      return { ok: false, error };
    }
  }

  onEvent(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops the jobs and the listeners; the library stays open (whoever opened it closes it). */
  close(): void {
    this.#ctx.jobs.cancelAll();
    this.#listeners.clear();
  }
}
