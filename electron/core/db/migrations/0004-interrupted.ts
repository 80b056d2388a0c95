/**
 * A run or job whose process died is 'interrupted' (not 'failed': a killed run keeps its epochs, its best
 * checkpoint and the predictions that checkpoint made). Rows record their process's start identity beside
 * the pid, so a pid the system reused for another process is not mistaken for the recorder.
 * SQLite cannot change a CHECK constraint in place: both tables are rebuilt (the runner turns foreign keys
 * off around migrations, so dropping the old runs table does not cascade to epochs and predictions).
 */
export const name = 'interrupted';

export const sql = `
CREATE TABLE runs_new (
  id TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  config TEXT NOT NULL,
  backend TEXT NOT NULL,
  device TEXT NOT NULL,
  engine TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled', 'interrupted')),
  job_id TEXT,
  pid INTEGER NOT NULL,
  pid_start TEXT,                    -- the process's start identity (see jobs/process-identity.ts); null if unknown
  started_at TEXT NOT NULL,
  finished_at TEXT,
  seconds REAL,
  params INTEGER,
  split_seed INTEGER,
  data_hash TEXT NOT NULL,
  train_images INTEGER NOT NULL,
  val_images INTEGER NOT NULL,
  weights_source TEXT NOT NULL,
  input_size INTEGER NOT NULL,
  best_epoch INTEGER,                -- while running: the epoch of the checkpoint saved last
  best_val_auc REAL,
  best_val_log_loss REAL,
  images_per_second REAL,
  error TEXT
) STRICT;
INSERT INTO runs_new (id, model, config, backend, device, engine, status, job_id, pid, pid_start, started_at, finished_at, seconds,
  params, split_seed, data_hash, train_images, val_images, weights_source, input_size, best_epoch, best_val_auc, best_val_log_loss,
  images_per_second, error)
SELECT id, model, config, backend, device, engine, status, job_id, pid, NULL, started_at, finished_at, seconds,
  params, split_seed, data_hash, train_images, val_images, weights_source, input_size, best_epoch, best_val_auc, best_val_log_loss,
  images_per_second, error
FROM runs;
DROP TABLE runs;
ALTER TABLE runs_new RENAME TO runs;
CREATE INDEX runs_started ON runs(started_at);

CREATE TABLE jobs_new (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled', 'interrupted')),
  input TEXT NOT NULL,
  result TEXT,
  error TEXT,
  pid INTEGER NOT NULL,
  pid_start TEXT,
  created_at TEXT NOT NULL,
  finished_at TEXT
) STRICT;
INSERT INTO jobs_new (id, kind, status, input, result, error, pid, pid_start, created_at, finished_at)
SELECT id, kind, status, input, result, error, pid, NULL, created_at, finished_at FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
`;
