/**
 * Label doubts: the last confident-learning computation (what produced it, its per-class thresholds and
 * out-of-fold AUC) and the images it doubts. Only the last computation is kept; the audit re-adds a
 * `label-doubt` finding from these rows for every image whose label is still the doubted one.
 */
export const name = 'doubts';

export const sql = `
CREATE TABLE doubts_runs (
  id INTEGER PRIMARY KEY,
  model TEXT NOT NULL,               -- architecture of the backbone whose frozen features were used
  weights TEXT NOT NULL,             -- imagenet | nsfwjs | a file path
  input_size INTEGER NOT NULL,
  run_id TEXT,                       -- the training run whose backbone was asked for (--run), if any
  folds INTEGER NOT NULL,
  seed INTEGER NOT NULL,
  images INTEGER NOT NULL,           -- labelled images that got an out-of-fold probability
  thresholds TEXT NOT NULL,          -- JSON: class name → mean out-of-fold probability of it over images labelled so
  oof_auc REAL,
  l2 REAL NOT NULL,                  -- the logistic regression's L2 strength chosen
  seconds REAL NOT NULL,
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE label_doubts (
  doubts_run_id INTEGER NOT NULL REFERENCES doubts_runs(id) ON DELETE CASCADE,
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  sha256 TEXT NOT NULL,              -- the content judged: a finding is only re-added while it is unchanged
  given TEXT NOT NULL,               -- class name the image had
  suggested TEXT NOT NULL,           -- class name the models suggest
  probability REAL NOT NULL CHECK (probability >= 0 AND probability <= 1),  -- out-of-fold p of the given label
  rank INTEGER NOT NULL,             -- 1 = least confident in its given label
  PRIMARY KEY (doubts_run_id, image_id)
) STRICT;
CREATE INDEX label_doubts_rank ON label_doubts(doubts_run_id, rank);
`;
