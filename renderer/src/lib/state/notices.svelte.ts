/**
 * Messages for the person: errors never leave a blank view, they land here. An error stays until it is
 * dismissed (it may need reading twice); a warning or an info note goes by itself after a while.
 */
import { errorMessage } from '../api/client';

export type NoticeKind = 'error' | 'warning' | 'info';

export interface Notice {
  id: number;
  kind: NoticeKind;
  text: string;
}

/** How long a notice stays, by kind; null: until dismissed. */
export const NOTICE_MS: Record<NoticeKind, number | null> = { error: null, warning: 12_000, info: 6_000 };
/** The stack keeps the newest few: older ones are dropped rather than pushed off the screen. */
const MAX_SHOWN = 3;

export class NoticeState {
  #items = $state<Notice[]>([]);
  #next = 1;

  get items(): readonly Notice[] {
    return this.#items;
  }

  push(kind: NoticeKind, text: string): void {
    const id = this.#next++;
    this.#items = [...this.#items.slice(-(MAX_SHOWN - 1)), { id, kind, text }];
    const ms = NOTICE_MS[kind];
    if (ms !== null) setTimeout(() => this.dismiss(id), ms);
  }

  error(err: unknown, doing?: string): void {
    this.push('error', doing ? `${doing}: ${errorMessage(err)}` : errorMessage(err));
  }

  dismiss(id: number): void {
    this.#items = this.#items.filter((n) => n.id !== id);
  }

  dismissAll(): void {
    this.#items = [];
  }
}

export const notices = new NoticeState();
