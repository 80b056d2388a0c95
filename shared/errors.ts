/** Error codes that cross every boundary (IPC, HTTP, CLI exit messages). */
export const ERROR_CODES = [
  'BAD_INPUT', // the caller sent something invalid; the message says what and how to fix it
  'NOT_FOUND', // a named image, run, file or folder does not exist
  'NO_LIBRARY', // the library folder has no studio.db yet
  'LIBRARY_TOO_NEW', // studio.db was written by a newer Mask Studio
  'CONFLICT', // the request is valid but the library's state refuses it (nothing to undo, ...)
  'FORBIDDEN', // the front end may not touch that path (serve's --data-root, the desktop's chosen folders)
  'IO', // the file system refused
  'CANCELLED', // a job was cancelled
  'UNKNOWN_METHOD',
  'INTERNAL', // a bug: the message is the original error's
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
  }

  toPayload(): ErrorPayload {
    return { code: this.code, message: this.message };
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** Any thrown value as the payload that crosses a boundary. */
export function toErrorPayload(err: unknown): ErrorPayload {
  if (isAppError(err)) return err.toPayload();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message };
}
