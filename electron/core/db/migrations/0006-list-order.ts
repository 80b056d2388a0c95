/**
 * The Library's list order (relative path, then id) as an index, so a page of a 100,000-image library is
 * read from the index instead of sorting every row for every page, and a cursor page starts where it left.
 */
export const name = 'list-order';

export const sql = `
CREATE INDEX images_rel_path ON images(rel_path, id);
`;
