/**
 * `shell.save`: the page asks for a submission CSV or the report, main shows the save dialog and writes the
 * file through the same functions `serve` uses (a submission's note lands beside the CSV). The request is validated here, where it enters main.
 */
import { dialog, type BrowserWindow } from 'electron';
import { z } from 'zod';
import { reportFileName, submissionFileName, writeReportFile, writeSubmissionFile } from '../server/downloads';
import type { CoreSession } from '../server/session';
import type { CallReply, SaveResult } from '../preload/bridge';
import { toErrorPayload } from '../../shared/errors';
import { describeValidation } from '../../shared/validation-text';

const SaveRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('submission'), runId: z.string().min(1).max(128), fill: z.number().min(0).max(1).optional(), partial: z.boolean().optional() }),
  z.object({ kind: z.literal('report'), split: z.enum(['val', 'test']) }),
]);

export async function handleSave(window: BrowserWindow | null, session: CoreSession, input: unknown): Promise<CallReply> {
  const parsed = SaveRequestSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) return { ok: false, error: { code: 'BAD_INPUT', message: describeValidation(parsed.error.issues) } };
  const request = parsed.data;
  const csv = request.kind === 'submission';
  const options = {
    title: csv ? 'Save the Zindi submission' : 'Save the HTML report',
    defaultPath: csv ? submissionFileName(request.runId) : reportFileName(request.split),
    filters: csv ? [{ name: 'CSV', extensions: ['csv'] }] : [{ name: 'HTML', extensions: ['html'] }],
  };
  const choice = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
  if (choice.canceled || !choice.filePath) return { ok: true, value: { path: null } satisfies SaveResult };
  try {
    const written = csv
      ? await writeSubmissionFile(session, request.runId, choice.filePath, {
          ...(request.fill !== undefined ? { fill: request.fill } : {}),
          ...(request.partial !== undefined ? { partial: request.partial } : {}),
        })
      : await writeReportFile(session, request.split, choice.filePath);
    return { ok: true, value: { path: written.out } satisfies SaveResult };
  } catch (err) {
    return { ok: false, error: toErrorPayload(err) };
  }
}
