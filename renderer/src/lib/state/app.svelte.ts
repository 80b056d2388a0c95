/** Which view is shown, the open library and its classes, and the connection to core. */
import type { ClassInfo, MethodOutput } from '../../../../shared/contract';
import { call, errorMessage, onConnection, onEvent, onMenu } from '../api/client';
import type { ConnectionStatus } from '../api/transport';

export const VIEWS = ['library', 'review', 'insights', 'train', 'compare', 'doctor'] as const;
export type View = (typeof VIEWS)[number];

type Info = MethodOutput<'library.info'>;

export class AppState {
  view = $state<View>('library');
  #info = $state<Info | null>(null);
  #loadError = $state<string | null>(null);
  #connection = $state<ConnectionStatus>('connecting');
  importOpen = $state(false);
  importDir = $state('');

  constructor() {
    onConnection((s) => (this.#connection = s));
    onEvent('library.changed', (e) => {
      if (e.what === 'classes' || e.what === 'images') void this.refresh();
    });
    onMenu((cmd) => {
      if (cmd.action === 'import') this.openImport(cmd.dir);
    });
  }

  get info(): Info | null {
    return this.#info;
  }
  get classes(): readonly ClassInfo[] {
    return this.#info?.classes ?? [];
  }
  get loadError(): string | null {
    return this.#loadError;
  }
  get connection(): ConnectionStatus {
    return this.#connection;
  }

  displayName(label: string | null): string {
    if (label === null) return 'unlabelled';
    return this.classes.find((c) => c.name === label)?.displayName ?? label;
  }

  async refresh(): Promise<void> {
    try {
      this.#info = await call('library.info', {});
      this.#loadError = null;
    } catch (err) {
      this.#loadError = errorMessage(err);
    }
  }

  openImport(dir = ''): void {
    this.importDir = dir;
    this.importOpen = true;
  }
}

export const app = new AppState();
