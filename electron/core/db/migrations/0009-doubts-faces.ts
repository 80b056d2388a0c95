/**
 * Whether a label-doubt computation looked at the faces too (`doubts --faces`): 0 for the whole images
 * only, and for every computation before this migration.
 */
export const name = 'doubts-faces';

export const sql = `
ALTER TABLE doubts_runs ADD COLUMN faces INTEGER NOT NULL DEFAULT 0 CHECK (faces IN (0, 1));
`;
