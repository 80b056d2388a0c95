/**
 * Training: one row per run (what was trained, on which data, on which backend, how it ended), one per
 * epoch, and every prediction the best checkpoint made on the val, test and submission rows.
 */
export const name = 'training';

export const sql = `
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  config TEXT NOT NULL,              -- JSON: every option the run used, defaults filled in
  backend TEXT NOT NULL,             -- tensorflow | wasm | cpu
  device TEXT NOT NULL,              -- 'GPU 0 (…)', 'CPU', 'wasm simd+threads (2)'
  engine TEXT NOT NULL,              -- what extracted frozen-base features: tfjs | onnx | none (end to end)
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
  job_id TEXT,
  pid INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  seconds REAL,
  params INTEGER,
  split_seed INTEGER,
  data_hash TEXT NOT NULL,           -- sha256 of the sorted (sha256, label, split) rows trained and validated on
  train_images INTEGER NOT NULL,
  val_images INTEGER NOT NULL,
  weights_source TEXT NOT NULL,      -- none | imagenet | nsfwjs | a file path
  input_size INTEGER NOT NULL,
  best_epoch INTEGER,
  best_val_auc REAL,
  best_val_log_loss REAL,
  images_per_second REAL,            -- training throughput over the whole run
  error TEXT
) STRICT;
CREATE INDEX runs_started ON runs(started_at);

CREATE TABLE epochs (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,            -- 1-based, continuing across stages
  stage INTEGER NOT NULL CHECK (stage IN (1, 2)),  -- transfer: 1 = head on cached features, 2 = fine-tuning
  loss REAL NOT NULL,
  acc REAL NOT NULL,
  auc REAL,                          -- null when the epoch saw one class only
  val_loss REAL NOT NULL,
  val_acc REAL NOT NULL,
  val_auc REAL,
  lr REAL NOT NULL,
  seconds REAL NOT NULL,
  images_per_second REAL NOT NULL,
  PRIMARY KEY (run_id, epoch)
) STRICT;

CREATE TABLE predictions (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  split TEXT NOT NULL CHECK (split IN ('train', 'val', 'test', 'submission')),
  probability REAL NOT NULL CHECK (probability >= 0 AND probability <= 1),
  PRIMARY KEY (run_id, image_id)
) STRICT;
CREATE INDEX predictions_image ON predictions(image_id);
`;
