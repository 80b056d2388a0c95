/** Which view is shown, the open library and its classes, and the connection to core. */
import type { ClassInfo, ImageRow, MethodOutput } from '../../../../shared/contract';
import { call, errorMessage, onConnection, onEvent, onMenu } from '../api/client';
import type { ConnectionStatus } from '../api/transport';
import { classColour } from '../palette';

export const VIEWS = ['library', 'review', 'insights', 'train', 'compare', 'doctor'] as const;
export type View = (typeof VIEWS)[number];

type Info = MethodOutput<'library.info'>;

/** An image whose findings Review is opened on (the Library's "!" badge). */
export interface ReviewTarget {
  id: number;
  name: string;
}

/** The view an address's fragment names ('#/train'), or null: a reload and Back keep a person's place. */
export function viewFromHash(hash: string): View | null {
  const name = hash.replace(/^#\/?/, '');
  return VIEWS.find((v) => v === name) ?? null;
}

const hasWindow = typeof window !== 'undefined';

export class AppState {
  #view = $state<View>((hasWindow ? viewFromHash(window.location.hash) : null) ?? 'library');
  #info = $state<Info | null>(null);
  #loadError = $state<string | null>(null);
  #connection = $state<ConnectionStatus>('connecting');
  #reviewTarget: ReviewTarget | null = null;
  importOpen = $state(false);
  importDir = $state('');

  constructor() {
    // Back and Forward move between the views a person opened, as in any web page
    if (hasWindow) window.addEventListener('popstate', () => (this.#view = viewFromHash(window.location.hash) ?? 'library'));
    onConnection((s) => (this.#connection = s));
    onEvent('library.changed', (e) => {
      if (e.what === 'classes' || e.what === 'images') void this.refresh();
    });
    onMenu((cmd) => {
      if (cmd.action === 'import') this.openImport(cmd.dir);
    });
  }

  get view(): View {
    return this.#view;
  }
  /** Opens a view and puts it in the address ('#/compare'): a reload opens it again, Back goes to the last. */
  set view(v: View) {
    if (v === this.#view) return;
    this.#view = v;
    if (hasWindow) window.history.pushState(null, '', `#/${v}`);
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

  /** A label's colour wherever it is drawn (lib/palette.ts: its class's, by position; unlabelled grey). */
  labelColour(label: string | null): string {
    return classColour(label === null ? null : (this.classes.find((c) => c.name === label)?.position ?? -1));
  }

  async refresh(): Promise<void> {
    try {
      this.#info = await call('library.info', {});
      this.#loadError = null;
    } catch (err) {
      this.#loadError = errorMessage(err);
    }
  }

  /** Opens Review on the findings that name one image (the Library's "!" badge, its preview's button, or f). */
  openFindingsOf(image: Pick<ImageRow, 'id' | 'relPath'>): void {
    this.#reviewTarget = { id: image.id, name: image.relPath };
    this.view = 'review';
  }
  /** The image Review was opened for, handed over once: Review opened any other way shows the whole queue. */
  takeReviewTarget(): ReviewTarget | null {
    const t = this.#reviewTarget;
    this.#reviewTarget = null;
    return t;
  }

  openImport(dir = ''): void {
    this.importDir = dir;
    this.importOpen = true;
  }
}

export const app = new AppState();
