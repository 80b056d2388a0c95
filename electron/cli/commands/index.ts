/** Every CLI command, in the order `mask-studio --help` lists them. */
import type { Command } from '../command';
import { audit, exportCmd, split, stats } from './dataset';
import { doctor, models } from './doctor';
import { doubts } from './doubts';
import { compare, ensemble } from './compare';
import { evaluate } from './evaluate';
import { classes, exclude, historyCmd, label, redoCmd, restore, undoCmd } from './edits';
import { exportModel } from './export-model';
import { importCmd } from './import';
import { report } from './report';
import { weights } from './weights';
import { predict } from './predict';
import { cache, runs, submission, train } from './train';
import { serve } from './serve';

export const COMMANDS: readonly Command[] = [
  importCmd,
  audit,
  stats,
  split,
  label,
  exclude,
  restore,
  undoCmd,
  redoCmd,
  historyCmd,
  classes,
  exportCmd,
  train,
  runs,
  predict,
  submission,
  compare,
  ensemble,
  evaluate,
  report,
  exportModel,
  doubts,
  cache,
  weights,
  models,
  doctor,
  serve,
];
