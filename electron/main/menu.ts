/** The application menu: open or create a library, import, export. Each item calls back into index.ts. */
import { Menu, type MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  openLibrary(): void;
  newLibrary(): void;
  importImages(): void;
  exportDataset(): void;
}

export function buildMenu(actions: MenuActions, devTools: boolean): Menu {
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open Library…', accelerator: 'CmdOrCtrl+O', click: () => actions.openLibrary() },
        { label: 'New Library…', accelerator: 'CmdOrCtrl+Shift+N', click: () => actions.newLibrary() },
        { type: 'separator' },
        { label: 'Import Images…', accelerator: 'CmdOrCtrl+I', click: () => actions.importImages() },
        { label: 'Export Cleaned Dataset…', accelerator: 'CmdOrCtrl+E', click: () => actions.exportDataset() },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    // No undo/redo roles here: z / shift+z belong to the library's own history.
    { label: 'Edit', submenu: [{ role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }] },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        ...(devTools ? [{ role: 'toggleDevTools' as const }] : []),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
  ];
  return Menu.buildFromTemplate(template);
}
