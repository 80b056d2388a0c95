/**
 * Which fold of a K-fold run an epoch belongs to (1-based, as RunInfo.folds counts them; null for a
 * single-split run). The folds' epochs are numbered on across folds (the key is run and epoch), so without
 * it the curves of K models read as one long run.
 *
 * Runs trained before this are filled in where their epochs say it exactly: every fold trains at most
 * `epochs` (plus `fineTuneEpochs` when `fineTuneLayers` > 0) epochs, so a run with K times that many, numbered
 * 1 to the count, ran every fold to its end and fold f holds the f-th block. Any other older K-fold run (early
 * stopping, a cancel) keeps null: its boundaries were not recorded, and the studio says so.
 */
export const name = 'epoch-folds';

export const sql = `
ALTER TABLE epochs ADD COLUMN fold INTEGER CHECK (fold IS NULL OR fold >= 1);

WITH parsed AS (
  -- a config that is not JSON is left alone (never an error that would keep the library closed)
  SELECT id, CASE WHEN json_valid(config) THEN config END AS c FROM runs
),
k_fold AS (
  SELECT id,
    json_extract(c, '$.folds') AS k,
    json_extract(c, '$.epochs')
      + CASE WHEN coalesce(json_extract(c, '$.fineTuneLayers'), 0) > 0 THEN coalesce(json_extract(c, '$.fineTuneEpochs'), 0) ELSE 0 END AS per
  FROM parsed
  WHERE json_type(c, '$.folds') = 'integer' AND json_extract(c, '$.folds') >= 2 AND json_type(c, '$.epochs') = 'integer'
),
whole AS (
  SELECT k_fold.id, k_fold.per FROM k_fold JOIN epochs e ON e.run_id = k_fold.id
  WHERE k_fold.per > 0
  GROUP BY k_fold.id
  HAVING count(*) = k_fold.k * k_fold.per AND min(e.epoch) = 1 AND max(e.epoch) = k_fold.k * k_fold.per
)
UPDATE epochs SET fold = (epoch - 1) / (SELECT per FROM whole WHERE whole.id = epochs.run_id) + 1
WHERE run_id IN (SELECT id FROM whole);
`;
