/**
 * Calibrated doubts: what planting label flips into the same images measured (JSON, shared/contract-compare.ts
 * DoubtsCalibration, read back through its schema) and each doubt's expected precision at its rank. Null for
 * a computation that was not calibrated, and for every one before this migration.
 */
export const name = 'doubts-calibration';

export const sql = `
ALTER TABLE doubts_runs ADD COLUMN calibration TEXT;
ALTER TABLE label_doubts ADD COLUMN expected_precision REAL CHECK (expected_precision IS NULL OR (expected_precision >= 0 AND expected_precision <= 1));
`;
