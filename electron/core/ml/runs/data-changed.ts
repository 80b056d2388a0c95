/**
 * Which runs trained on data the library no longer has: a run records the hash of its training set
 * (images, labels and splits of train, val and test); an exclusion, a restore, a relabel or a new split
 * since gives the library another one. The runs tables mark such a run: its scores are for the data it saw.
 */
import { AppError } from '../../../../shared/errors';
import type { Db } from '../../db/open';
import { trainingSet } from './store';

/**
 * The runs whose training data is not the library's current training set, and that set's hash (null when
 * the library cannot train now: every run trained on other data then). One read of the set for every run.
 */
export function runsOnOtherData(db: Db): { dataHash: string | null; runs: string[] } {
  let dataHash: string | null = null;
  try {
    dataHash = trainingSet(db).dataHash;
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
  }
  const runs = db.prepare('SELECT id, data_hash FROM runs ORDER BY started_at, id').all() as Array<{ id: string; data_hash: string }>;
  return { dataHash, runs: runs.filter((r) => r.data_hash !== dataHash).map((r) => r.id) };
}
