/** Messages for the person: errors never leave a blank view, they land here (and stay until dismissed). */
import { errorMessage } from '../api/client';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

export class NoticeState {
  #items = $state<Notice[]>([]);
  #next = 1;

  get items(): readonly Notice[] {
    return this.#items;
  }

  push(kind: Notice['kind'], text: string): void {
    const id = this.#next++;
    this.#items = [...this.#items.slice(-4), { id, kind, text }];
    if (kind === 'info') setTimeout(() => this.dismiss(id), 4000);
  }

  error(err: unknown, doing?: string): void {
    this.push('error', doing ? `${doing}: ${errorMessage(err)}` : errorMessage(err));
  }

  dismiss(id: number): void {
    this.#items = this.#items.filter((n) => n.id !== id);
  }
}

export const notices = new NoticeState();
