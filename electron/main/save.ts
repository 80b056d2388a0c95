/**
 * `shell.save`: the page asks for a submission CSV, the report or a run's model (a zip), main shows the save dialog and writes the
 * file through the same functions `serve` uses. The request is validated here, where it enters main.
 */
import { dialog, type BrowserWindow } from 'electron';
import { z } from 'zod';
import { modelZipName, reportFileName, submissionFileName, writeModelZip, writeReportFile, writeSubmissionFile } from '../server/downloads';
import type { CoreSession } from '../server/session';
import type { CallReply, SaveResult } from '../preload/bridge';
import { toErrorPayload } from '../../shared/errors';

const SaveRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('submission'), runId: z.string().min(1).max(128) }),
  z.object({ kind: z.literal('report'), split: z.enum(['val', 'test']) }),
  z.object({ kind: z.literal('model'), runId: z.string().min(1).max(128), format: z.enum(['onnx', 'tfjs']) }),
]);

type Parsed = z.infer<typeof SaveRequestSchema>;

function dialogOptions(request: Parsed): { title: string; defaultPath: string; filters: Array<{ name: string; extensions: string[] }> } {
  if (request.kind === 'submission') return { title: 'Save the Zindi submission', defaultPath: submissionFileName(request.runId), filters: [{ name: 'CSV', extensions: ['csv'] }] };
  if (request.kind === 'report') return { title: 'Save the HTML report', defaultPath: reportFileName(request.split), filters: [{ name: 'HTML', extensions: ['html'] }] };
  return { title: 'Save the model', defaultPath: modelZipName(request.runId, request.format), filters: [{ name: 'Zip', extensions: ['zip'] }] };
}

function write(session: CoreSession, request: Parsed, out: string): Promise<{ out: string }> {
  if (request.kind === 'submission') return writeSubmissionFile(session, request.runId, out);
  if (request.kind === 'report') return writeReportFile(session, request.split, out);
  return writeModelZip(session, request.runId, request.format, out);
}

export async function handleSave(window: BrowserWindow | null, session: CoreSession, input: unknown): Promise<CallReply> {
  const parsed = SaveRequestSchema.safeParse(input);
  if (!parsed.success) return { ok: false, error: { code: 'BAD_INPUT', message: `shell.save: ${parsed.error.message}` } };
  const request = parsed.data;
  const options = dialogOptions(request);
  const choice = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
  if (choice.canceled || !choice.filePath) return { ok: true, value: { path: null } satisfies SaveResult };
  try {
    const written = await write(session, request, choice.filePath);
    return { ok: true, value: { path: written.out } satisfies SaveResult };
  } catch (err) {
    return { ok: false, error: toErrorPayload(err) };
  }
}
