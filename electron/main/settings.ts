/**
 * The little the desktop shell remembers between launches: which library was open last. It lives in Electron's
 * userData, which also holds Chromium's caches and may roam or sync; libraries and weights never do (they are
 * under dataHome(), core/library.ts).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Electron's userData, pinned: by default it is named after the app's name, which a productName (package.json
 * or the installer's) would change, moving the settings and, on macOS, landing on dataHome()'s folder.
 */
export function userDataDir(appData: string): string {
  return join(appData, 'mask-studio');
}

interface Settings {
  lastLibrary?: string;
}

export class SettingsFile {
  readonly #file: string;
  constructor(userData: string) {
    this.#file = join(userData, 'settings.json');
  }

  read(): Settings {
    if (!existsSync(this.#file)) return {};
    try {
      const doc: unknown = JSON.parse(readFileSync(this.#file, 'utf8'));
      if (typeof doc !== 'object' || doc === null) return {};
      const last = 'lastLibrary' in doc && typeof doc.lastLibrary === 'string' ? doc.lastLibrary : undefined;
      return last ? { lastLibrary: last } : {};
    } catch {
      return {};
    }
  }

  write(settings: Settings): void {
    mkdirSync(dirname(this.#file), { recursive: true });
    writeFileSync(this.#file, `${JSON.stringify(settings, null, 2)}\n`);
  }
}
