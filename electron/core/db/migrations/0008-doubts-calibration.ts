/**
 * Calibrated doubts: what planting label flips into the same images measured (JSON, shared/contract-compare.ts
 * DoubtsCalibration, read back through its schema) and each doubt's expected precision at its rank. Null for
 * a computation that was not calibrated, and for every one before this migration. Also the test-time views
 * whose frozen-base features were averaged (null: a K-fold run's own probabilities, or an older computation).
 */
export const name = 'doubts-calibration';

export const sql = `
ALTER TABLE doubts_runs ADD COLUMN calibration TEXT;
ALTER TABLE doubts_runs ADD COLUMN tta TEXT CHECK (tta IS NULL OR tta IN ('none', 'flip', 'flip-crops'));
ALTER TABLE label_doubts ADD COLUMN expected_precision REAL CHECK (expected_precision IS NULL OR (expected_precision >= 0 AND expected_precision <= 1));
`;
