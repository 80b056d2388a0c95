/** Every CLI command, in the order `mask-studio --help` lists them. */
import type { Command } from '../command';
import { classes, exclude, historyCmd, label, redoCmd, restore, undoCmd } from './edits';
import { importCmd } from './import';

export const COMMANDS: readonly Command[] = [
  importCmd,
  label,
  exclude,
  restore,
  undoCmd,
  redoCmd,
  historyCmd,
  classes,
];
