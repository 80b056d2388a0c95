/** What every contract handler gets: the open library, the job runner, and the event channel. */
import type { Library } from '../library';
import type { Emit, JobRunner } from '../jobs/runner';

export interface CoreContext {
  lib: Library;
  jobs: JobRunner;
  emit: Emit;
}
