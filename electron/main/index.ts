/**
 * The desktop shell: one window (context isolation, sandbox, no Node in the page, a strict CSP), the app's
 * own `studio://` origin, one IPC channel into dispatch() and one for events out, and the menus. Everything
 * else is core, the same code the CLI and `serve` run.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, session as electronSession, shell } from 'electron';
import { exportDataset as writeDatasetExport } from '../core/dataset/export';
import { defaultLibraryDir, openLibrary, type Library } from '../core/library';
import { DataRoots } from '../core/paths/data-roots';
import { CALL_CHANNEL, EVENT_CHANNEL, SHELL_CHOOSE, SHELL_SAVE, type BridgeEvent, type CallReply } from '../preload/bridge';
import { externalLink } from '../server/desktop-requests';
import { CoreSession } from '../server/session';
import { buildMenu } from './menu';
import { handleChoose, handleSave } from './save';
import { bindingHelp, findSqliteBinding } from './native-binding';
import { APP_ORIGIN, handleScheme, registerScheme } from './protocol';
import { SettingsFile, userDataDir } from './settings';

const here = fileURLToPath(new URL('.', import.meta.url));
const rendererDir = join(here, '..', 'renderer');
const preloadFile = join(here, '..', 'preload', 'index.cjs');

let window: BrowserWindow | null = null;
/** What the person picked in an open dialog this launch: the only paths a page's import may name. */
const readRoots = new DataRoots([], {
  howToAllow: 'Pick it with a Choose… button or File › Import Images… (the app reads only what you pick).',
});
let current: { lib: Library; session: CoreSession; unsubscribe: () => void } | null = null;

registerScheme();
// Before anything reads it (the single-instance lock does); an explicit --user-data-dir still wins.
if (!app.commandLine.hasSwitch('user-data-dir')) app.setPath('userData', userDataDir(app.getPath('appData')));
// One window per person: a second launch focuses the first.
if (!app.requestSingleInstanceLock()) app.quit();

function send(event: BridgeEvent): void {
  if (window && !window.isDestroyed()) window.webContents.send(EVENT_CHANNEL, event);
}

function openAt(dir: string, create: boolean, reload = true): void {
  const nativeBinding = findSqliteBinding(app.getAppPath());
  let lib: Library;
  try {
    lib = openLibrary(dir, { create, ...(nativeBinding ? { nativeBinding } : {}) });
  } catch (err) {
    dialog.showErrorBox('Mask Studio cannot open this library', bindingHelp(err as Error));
    return;
  }
  if (current) {
    current.unsubscribe();
    current.session.close();
    current.lib.close();
  }
  const session = new CoreSession(lib, { readRoots });
  current = { lib, session, unsubscribe: session.onEvent((e) => send(e)) };
  settings().write({ lastLibrary: lib.dir });
  window?.setTitle(`Mask Studio: ${lib.dir}`);
  // Every view refetches from the new library.
  if (reload) window?.webContents.reload();
}

let settingsFile: SettingsFile | null = null;
function settings(): SettingsFile {
  settingsFile ??= new SettingsFile(app.getPath('userData'));
  return settingsFile;
}

async function chooseFolder(title: string, create: boolean): Promise<string | null> {
  if (!window) return null;
  const result = await dialog.showOpenDialog(window, {
    title,
    properties: create ? ['openDirectory', 'createDirectory'] : ['openDirectory'],
  });
  return result.canceled ? null : (result.filePaths[0] ?? null);
}

async function exportDataset(): Promise<void> {
  if (!current || !window) return;
  const outDir = await chooseFolder('Export the cleaned dataset into…', true);
  if (!outDir) return;
  // main writes where the person chose; the page's export.run can only write inside the library
  try {
    const r = writeDatasetExport(current.lib.db, outDir);
    await dialog.showMessageBox(window, { type: 'info', message: 'Exported', detail: `${r.images} images (and ${r.submission} submission images) in ${r.outDir}` });
  } catch (err) {
    dialog.showErrorBox('Export failed', (err as Error).message);
  }
}

function createWindow(): void {
  window = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Mask Studio',
    backgroundColor: '#14161a',
    webPreferences: {
      preload: preloadFile,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  window.once('ready-to-show', () => window?.show());
  window.on('closed', () => (window = null));
  void window.loadURL(`${APP_ORIGIN}/index.html`);
}

/** A web link the page tried to open: only allow-listed https sites, in the person's browser, after they say yes. */
async function offerExternal(url: string): Promise<void> {
  const link = externalLink(url);
  if (!link || !window) return;
  const answer = await dialog.showMessageBox(window, {
    type: 'question',
    buttons: ['Open in browser', 'Cancel'],
    defaultId: 1,
    cancelId: 1,
    message: 'Open this page in your web browser?',
    detail: link,
  });
  if (answer.response === 0) await shell.openExternal(link);
}

function lockDown(): void {
  // No permission (camera, notifications, clipboard, USB, ...) is ever needed: refuse asking and checking.
  const ses = electronSession.defaultSession;
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!url.startsWith(`${APP_ORIGIN}/`)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!url.startsWith(`${APP_ORIGIN}/`)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      // Never a window inside the app; an allow-listed link may open in the browser once the person agrees.
      void offerExternal(url);
      return { action: 'deny' };
    });
  });
}

function wireIpc(): void {
  ipcMain.handle(CALL_CHANNEL, async (event, method: unknown, input: unknown): Promise<CallReply> => {
    if (!event.senderFrame || !event.senderFrame.url.startsWith(`${APP_ORIGIN}/`)) {
      return { ok: false, error: { code: 'BAD_INPUT', message: 'calls are accepted from the app page only' } };
    }
    if (typeof method !== 'string') return { ok: false, error: { code: 'BAD_INPUT', message: 'method must be a string' } };
    if (!current) return { ok: false, error: { code: 'NO_LIBRARY', message: 'no library is open: use File › Open Library…' } };
    if (method === SHELL_SAVE) return handleSave(window, current.session, input);
    if (method === SHELL_CHOOSE) return handleChoose(window, readRoots, input);
    return current.session.call(method, input);
  });
}

void app.whenReady().then(() => {
  lockDown();
  handleScheme(rendererDir, () => current?.session ?? null);
  wireIpc();
  Menu.setApplicationMenu(
    buildMenu(
      {
        openLibrary: () => void chooseFolder('Open a library folder', false).then((d) => d && openAt(d, false)),
        newLibrary: () => void chooseFolder('Create a library in…', true).then((d) => d && openAt(d, true)),
        importImages: () =>
          void chooseFolder('Import images from…', false).then((dir) => {
            if (!dir) return;
            readRoots.grant(dir);
            send({ name: 'app.menu', payload: { action: 'import', dir } });
          }),
        exportDataset: () => void exportDataset(),
      },
      !app.isPackaged,
    ),
  );
  openAt(settings().read().lastLibrary ?? defaultLibraryDir(), true, false);
  createWindow();
  if (current) window?.setTitle(`Mask Studio: ${current.lib.dir}`);
});

app.on('second-instance', () => {
  if (window) {
    if (window.isMinimized()) window.restore();
    window.focus();
  }
});

app.on('window-all-closed', () => {
  if (current) {
    current.unsubscribe();
    current.session.close();
    current.lib.close();
    current = null;
  }
  app.quit();
});
