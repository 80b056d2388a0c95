/**
 * The desktop shell's own rules, kept out of electron/main so they run (and are tested) under plain Node:
 * what a page may ask main for (`shell.save`, `shell.choose`), what each dialog looks like, and which web
 * links may leave the app for the person's browser.
 */
import { z } from 'zod';
import { RUN_ID_PATTERN } from '../../shared/contract';
import { EXPORT_FORMATS, TTA_MODES } from '../../shared/names';
import { AppError } from '../../shared/errors';
import { modelExportName, reportFileName, submissionFileName } from '../core/paths/exports';
import { CHOOSE_KINDS, type ChooseRequest, type SaveRequest } from '../preload/bridge';

const RunId = z.string().regex(RUN_ID_PATTERN, { error: 'a run id is letters, digits, dots, dashes and underscores (as `mask-studio runs` prints it)' });

export const SaveRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('submission'), runId: RunId, fill: z.number().min(0).max(1).optional(), partial: z.boolean().optional(), tta: z.enum(TTA_MODES).optional() }).strict(),
  z.object({ kind: z.literal('report'), split: z.enum(['val', 'test']) }).strict(),
  z.object({ kind: z.literal('model'), runId: RunId, format: z.enum(EXPORT_FORMATS) }).strict(),
]) satisfies z.ZodType<SaveRequest>;

export const ChooseRequestSchema = z.object({ kind: z.enum(CHOOSE_KINDS) }).strict() satisfies z.ZodType<ChooseRequest>;

function parse<T>(schema: z.ZodType<T>, what: string, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'input'}: ${i.message}`).join('; ');
    throw new AppError('BAD_INPUT', `${what}: ${issues}`);
  }
  return parsed.data;
}

export function parseSaveRequest(input: unknown): SaveRequest {
  return parse(SaveRequestSchema, 'shell.save', input);
}

export function parseChooseRequest(input: unknown): ChooseRequest {
  return parse(ChooseRequestSchema, 'shell.choose', input);
}

export interface DialogFilter {
  name: string;
  extensions: string[];
}

/** A save dialog for a file, or an open dialog for the folder a model export goes into. */
export interface SaveDialogPlan {
  title: string;
  /** 'folder': the person picks a folder and main writes `defaultName` inside it. */
  pick: 'file' | 'folder';
  defaultName: string;
  filters: DialogFilter[];
}

/** `libDir`: the open library, whose name the report's file carries. */
export function saveDialogPlan(request: SaveRequest, libDir: string): SaveDialogPlan {
  switch (request.kind) {
    case 'submission':
      return { title: 'Save the Zindi submission', pick: 'file', defaultName: submissionFileName(request.runId), filters: [{ name: 'CSV', extensions: ['csv'] }] };
    case 'report':
      return { title: 'Save the HTML report', pick: 'file', defaultName: reportFileName(libDir, request.split), filters: [{ name: 'HTML', extensions: ['html'] }] };
    case 'model':
      return { title: 'Export the model into…', pick: 'folder', defaultName: modelExportName(request.runId, request.format), filters: [] };
  }
}

export interface OpenDialogPlan {
  title: string;
  properties: Array<'openFile' | 'openDirectory'>;
  filters: DialogFilter[];
}

export function chooseDialogPlan(request: ChooseRequest): OpenDialogPlan {
  const csv = [{ name: 'CSV', extensions: ['csv'] }];
  switch (request.kind) {
    case 'import-dir':
      return { title: 'The image folder to import', properties: ['openDirectory'], filters: [] };
    case 'test-dir':
      return { title: 'The unlabelled test image folder', properties: ['openDirectory'], filters: [] };
    case 'labels':
      return { title: 'The labels CSV (image,target)', properties: ['openFile'], filters: csv };
    case 'sample-submission':
      return { title: 'The sample submission CSV', properties: ['openFile'], filters: csv };
    case 'evaluate-dir':
      return { title: 'The labelled folder to score the runs on (one subfolder per class)', properties: ['openDirectory'], filters: [] };
  }
}

/** Sites a link in the app may open, in the person's browser and after they confirm; nothing else leaves. */
export const EXTERNAL_LINK_HOSTS: readonly string[] = [
  'zindi.africa',
  'github.com',
  'keras.io',
  'onnxruntime.ai',
  'www.tensorflow.org',
  'storage.googleapis.com',
];

/** The URL to offer for opening, normalised, or null when it is not https on an allowed host. */
export function externalLink(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' || parsed.username !== '' || parsed.password !== '' || parsed.port !== '') return null;
  return EXTERNAL_LINK_HOSTS.includes(parsed.hostname) ? parsed.toString() : null;
}
