/** What every contract handler gets: the open library, the job runner, and the event channel. */
import type { Library } from '../library';
import type { Emit, JobRunner } from '../jobs/runner';
import type { DataRoots } from '../paths/data-roots';

export interface CoreContext {
  lib: Library;
  jobs: JobRunner;
  emit: Emit;
  /**
   * The folders a path sent by a page (import.start, train.start's weights file) may lie in. Missing: none,
   * so a front end that forgets to say reads nothing a page names.
   */
  readRoots?: DataRoots;
}
