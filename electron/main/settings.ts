/** The little the desktop shell remembers between launches: which library was open last. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

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
