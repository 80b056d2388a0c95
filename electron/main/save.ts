/**
 * `shell.save` and `shell.choose`: the page asks for a kind of file, main shows the dialog and uses the path
 * the person picked. A save writes through the same core functions `serve` and the CLI use; a choice is
 * remembered in `readRoots`, the only paths a page's import may name. Requests are validated here, where
 * they enter main (desktop-requests.ts holds the rules, under plain Node and its tests).
 */
import { join } from 'node:path';
import { dialog, type BrowserWindow, type OpenDialogOptions, type SaveDialogOptions } from 'electron';
import { detectImport } from '../core/dataset/import-detect';
import type { DataRoots } from '../core/paths/data-roots';
import { chooseDialogPlan, parseChooseRequest, parseSaveRequest, saveDialogPlan } from '../server/desktop-requests';
import { writeModelTo, writeReportTo, writeSubmissionTo } from '../server/downloads';
import type { CoreSession } from '../server/session';
import type { CallReply, ChooseResult, SaveRequest, SaveResult } from '../preload/bridge';
import { toErrorPayload } from '../../shared/errors';

async function showSave(window: BrowserWindow | null, options: SaveDialogOptions): Promise<string | null> {
  const choice = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
  return choice.canceled || !choice.filePath ? null : choice.filePath;
}

async function showOpen(window: BrowserWindow | null, options: OpenDialogOptions): Promise<string | null> {
  const choice = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
  return choice.canceled ? null : (choice.filePaths[0] ?? null);
}

async function write(session: CoreSession, request: SaveRequest, path: string): Promise<string> {
  switch (request.kind) {
    case 'submission':
      return (
        await writeSubmissionTo(session.lib, request.runId, path, {
          ...(request.fill !== undefined ? { fill: request.fill } : {}),
          ...(request.partial !== undefined ? { partial: request.partial } : {}),
          ...(request.tta !== undefined ? { tta: request.tta } : {}),
        })
      ).out;
    case 'report':
      return (await writeReportTo(session.lib, request.split, path)).out;
    case 'model':
      return (await writeModelTo(session.lib, request.runId, request.format, path)).dir;
  }
}

export async function handleSave(window: BrowserWindow | null, session: CoreSession, input: unknown): Promise<CallReply> {
  try {
    const request = parseSaveRequest(input);
    const plan = saveDialogPlan(request, session.lib.dir);
    let path: string | null;
    if (plan.pick === 'file') {
      path = await showSave(window, { title: plan.title, defaultPath: plan.defaultName, filters: plan.filters });
    } else {
      const folder = await showOpen(window, { title: plan.title, properties: ['openDirectory', 'createDirectory'] });
      path = folder === null ? null : join(folder, plan.defaultName);
    }
    if (path === null) return { ok: true, value: { path: null } satisfies SaveResult };
    return { ok: true, value: { path: await write(session, request, path) } satisfies SaveResult };
  } catch (err) {
    return { ok: false, error: toErrorPayload(err) };
  }
}

export async function handleChoose(window: BrowserWindow | null, readRoots: DataRoots, input: unknown): Promise<CallReply> {
  try {
    const request = parseChooseRequest(input);
    const plan = chooseDialogPlan(request);
    const path = await showOpen(window, { title: plan.title, properties: plan.properties, filters: plan.filters });
    if (path !== null) readRoots.grant(path);
    // The import dialog fills in the labels CSV, test folder and sample found beside a picked image folder
    // (import.detect): main looks there itself, so those the person sees proposed may be imported too.
    if (path !== null && request.kind === 'import-dir') {
      const found = detectImport(path);
      for (const companion of [found.labels, found.testDir, found.sampleSubmission]) if (companion !== null) readRoots.grant(companion);
    }
    return { ok: true, value: { path } satisfies ChooseResult };
  } catch (err) {
    return { ok: false, error: toErrorPayload(err) };
  }
}
