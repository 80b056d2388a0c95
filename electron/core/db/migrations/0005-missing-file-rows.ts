/**
 * CSV rows that name no file are their own kind of import issue, `missing-file` (they were `unknown-label`,
 * which says the target is wrong: Zindi's sample submission lists 509 test images where a download may hold
 * fewer, and each became an error). The rows keep the CSV they came from and the folder searched, so the audit
 * groups them into one finding per CSV. SQLite cannot change a CHECK, so the table is rebuilt; existing rows
 * are carried over, the "has no file in" ones re-kinded.
 */
export const name = 'missing-file-rows';

export const sql = `
CREATE TABLE import_issues_new (
  id INTEGER PRIMARY KEY,
  source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('unknown-label', 'duplicate-row', 'missing-file')),
  line INTEGER NOT NULL,
  file TEXT NOT NULL,
  message TEXT NOT NULL,
  csv TEXT NOT NULL DEFAULT '',      -- the CSV's file name (the message starts with it)
  folder TEXT                        -- missing-file: the folder the image was looked for in
) STRICT;

INSERT INTO import_issues_new (id, source_id, kind, line, file, message, csv, folder)
SELECT id, source_id,
  CASE WHEN kind = 'unknown-label' AND instr(message, ' has no file in ') > 0 THEN 'missing-file' ELSE kind END,
  line, file, message,
  CASE WHEN instr(message, ' line ') > 0 THEN substr(message, 1, instr(message, ' line ') - 1) ELSE '' END,
  CASE WHEN instr(message, ' has no file in ') > 0 THEN substr(message, instr(message, ' has no file in ') + 16) ELSE NULL END
FROM import_issues;

DROP TABLE import_issues;
ALTER TABLE import_issues_new RENAME TO import_issues;
`;
