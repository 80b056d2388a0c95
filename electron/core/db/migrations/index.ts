/**
 * Numbered migrations. A landed migration is never edited: a change is a new file. Each entry's position
 * + 1 is the `PRAGMA user_version` it brings the database to.
 */
import * as m0001 from './0001-initial';
import * as m0002 from './0002-training';
import * as m0003 from './0003-doubts';
import * as m0004 from './0004-interrupted';
import * as m0005 from './0005-missing-file-rows';
import * as m0006 from './0006-list-order';
import * as m0007 from './0007-near-pairs';
import * as m0008 from './0008-doubts-calibration';
import * as m0009 from './0009-doubts-faces';
import * as m0010 from './0010-epoch-folds';

export interface Migration {
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [m0001, m0002, m0003, m0004, m0005, m0006, m0007, m0008, m0009, m0010];
