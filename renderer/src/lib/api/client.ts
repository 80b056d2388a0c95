/**
 * The page's one door into core: `call('images.list', {...})` typed by the contract, `onEvent` typed by the
 * event map. Errors arrive as the shared AppError with the contract's code and a message meant for a person.
 */
import type { EventName, EventPayload, MethodInput, MethodName, MethodOutput } from '../../../../shared/contract';
import { AppError } from '../../../../shared/errors';
import { electronTransport } from './electron-transport';
import { httpTransport } from './http-transport';
import type { BridgeEvent, ConnectionStatus, Transport } from './transport';

export interface MenuCommand {
  action: 'import';
  dir: string;
}

let transport: Transport | null = null;

function current(): Transport {
  transport ??= window.bridge ? electronTransport(window.bridge) : httpTransport();
  return transport;
}

export function transportName(): Transport['name'] {
  return current().name;
}

export async function call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
  const reply = await current().call(method, input);
  if (!reply.ok) throw new AppError(reply.error.code, reply.error.message);
  // The other side validated the input and produced the output from the same contract.
  return reply.value as MethodOutput<M>;
}

export function onEvent<E extends EventName>(name: E, handler: (payload: EventPayload<E>) => void): () => void {
  return current().onEvent((event: BridgeEvent) => {
    if (event.name === name) handler(event.payload as EventPayload<E>);
  });
}

export function onMenu(handler: (command: MenuCommand) => void): () => void {
  return current().onEvent((event) => {
    const p = event.payload;
    if (event.name !== 'app.menu' || typeof p !== 'object' || p === null) return;
    if ('action' in p && p.action === 'import' && 'dir' in p && typeof p.dir === 'string') handler({ action: 'import', dir: p.dir });
  });
}

export function onConnection(handler: (status: ConnectionStatus) => void): () => void {
  return current().onStatus(handler);
}

/** Relative on purpose: `studio://app/` in Electron and the server's origin in a browser serve the same path. */
export function imageUrl(id: number, size: 'thumb' | 'full'): string {
  return size === 'thumb' ? `api/image/${id}?size=thumb` : `api/image/${id}`;
}

export function errorMessage(err: unknown): string {
  if (err instanceof AppError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
