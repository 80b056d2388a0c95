/**
 * "Are you sure?" before a change to more than one image (or anything else hard to take back): one question
 * at a time, answered in a dialog that says what will change and how to undo it.
 */
export interface ConfirmRequest {
  title: string;
  /** What will change, in numbers. */
  body: string;
  /** The confirming button's words ("Relabel 59 images"). */
  confirm: string;
}

interface Pending extends ConfirmRequest {
  resolve: (ok: boolean) => void;
}

export class ConfirmState {
  #pending = $state.raw<Pending | null>(null);

  get request(): ConfirmRequest | null {
    return this.#pending;
  }
  get open(): boolean {
    return this.#pending !== null;
  }

  /** Resolves true when the person confirms, false when they cancel (or another question replaces this one). */
  ask(request: ConfirmRequest): Promise<boolean> {
    this.#pending?.resolve(false);
    return new Promise((resolve) => {
      this.#pending = { ...request, resolve };
    });
  }

  answer(ok: boolean): void {
    const p = this.#pending;
    this.#pending = null;
    p?.resolve(ok);
  }
}

export const confirmer = new ConfirmState();
