/** The library's first schema: classes, imported folders, images, label/exclusion events, audits, jobs. */
export const name = 'initial';

export const sql = `
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE classes (
  name TEXT PRIMARY KEY,            -- as written in the labels: '0', '1'
  display_name TEXT NOT NULL,       -- as shown: 'no mask', 'mask'
  hotkey TEXT,
  position INTEGER NOT NULL
) STRICT;

CREATE TABLE sources (
  id INTEGER PRIMARY KEY,
  root TEXT NOT NULL UNIQUE,        -- absolute path of the imported folder
  layout TEXT NOT NULL CHECK (layout IN ('zindi', 'class-folders', 'test')),
  labels_csv TEXT,
  sample_submission TEXT,
  imported_at TEXT NOT NULL
) STRICT;

CREATE TABLE images (
  id INTEGER PRIMARY KEY,
  source_id INTEGER NOT NULL REFERENCES sources(id),
  path TEXT NOT NULL UNIQUE,        -- absolute; the user's file, never modified
  rel_path TEXT NOT NULL,           -- relative to the source root
  file_name TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  mtime_ms INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  magic TEXT,                       -- format the first bytes say
  format TEXT,                      -- format the decoder found
  width INTEGER,
  height INTEGER,
  channels INTEGER,
  space TEXT,
  has_alpha INTEGER,
  orientation INTEGER,
  decode_status TEXT NOT NULL CHECK (decode_status IN ('ok', 'unreadable', 'truncated', 'empty', 'not-an-image', 'too-large')),
  decode_error TEXT,
  phash TEXT,                       -- 64-bit dHash (16 hex): the index key for near duplicates
  phash_fine TEXT,                  -- 256-bit dHash (64 hex): confirms a candidate pair
  label TEXT REFERENCES classes(name) ON UPDATE CASCADE,
  import_label TEXT,                -- what the last import said; a new import only overrides when this changes
  split TEXT NOT NULL DEFAULT 'unassigned' CHECK (split IN ('unassigned', 'train', 'val', 'test', 'submission')),
  excluded INTEGER NOT NULL DEFAULT 0 CHECK (excluded IN (0, 1)),
  exclude_reason TEXT,
  missing INTEGER NOT NULL DEFAULT 0 CHECK (missing IN (0, 1)),
  scanned_at TEXT NOT NULL
) STRICT;
CREATE INDEX images_sha256 ON images(sha256);
CREATE INDEX images_file_name ON images(file_name);
CREATE INDEX images_label_split ON images(label, split);

-- Problems the import met in the labels CSV (a row that names no file, a target outside the classes, a
-- repeated row). Replaced for a source at each of its imports; the audit turns them into findings.
CREATE TABLE import_issues (
  id INTEGER PRIMARY KEY,
  source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('unknown-label', 'duplicate-row')),
  line INTEGER NOT NULL,
  file TEXT NOT NULL,
  message TEXT NOT NULL
) STRICT;

-- Every label change and every exclusion/restore. Undo/redo walk batches; a new change drops the redo tail.
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  batch INTEGER NOT NULL,
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('label', 'exclusion')),
  old_value TEXT,
  new_value TEXT,
  source TEXT NOT NULL CHECK (source IN ('user', 'import', 'model-suggestion', 'review')),
  state TEXT NOT NULL DEFAULT 'done' CHECK (state IN ('done', 'undone', 'dropped')),
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX events_batch ON events(batch);

CREATE TABLE audits (
  id INTEGER PRIMARY KEY,
  created_at TEXT NOT NULL,
  seconds REAL NOT NULL,
  images INTEGER NOT NULL
) STRICT;

CREATE TABLE findings (
  id INTEGER PRIMARY KEY,
  audit_id INTEGER NOT NULL REFERENCES audits(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
  message TEXT NOT NULL,
  detail TEXT NOT NULL              -- JSON
) STRICT;
CREATE INDEX findings_kind ON findings(kind);

CREATE TABLE finding_images (
  finding_id INTEGER NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  PRIMARY KEY (finding_id, image_id)
) STRICT;
CREATE INDEX finding_images_image ON finding_images(image_id);

-- A person's decision on a finding outlives the audit that produced it (keyed by the finding's stable key).
CREATE TABLE finding_decisions (
  key TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('open', 'dismissed', 'resolved')),
  decided_at TEXT NOT NULL
) STRICT;

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
  input TEXT NOT NULL,              -- JSON
  result TEXT,                      -- JSON
  error TEXT,
  pid INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  finished_at TEXT
) STRICT;
`;
