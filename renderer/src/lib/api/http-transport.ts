/**
 * `mask-studio serve`: calls are `POST api/call`, events arrive on the WebSocket `api/events`. The token
 * lives in an HttpOnly cookie the server set on the first load, so nothing here handles it. The socket
 * reconnects with backoff; after a reconnect the views refetch (they may have missed events).
 */
import type { BridgeEvent, CallReply, ConnectionStatus, Transport } from './transport';

function isReply(doc: unknown): doc is CallReply {
  return typeof doc === 'object' && doc !== null && 'ok' in doc && typeof doc.ok === 'boolean';
}

function isEvent(doc: unknown): doc is BridgeEvent {
  return typeof doc === 'object' && doc !== null && 'name' in doc && typeof doc.name === 'string' && 'payload' in doc;
}

/** One `POST api/call`, its failures (no server, a refused page, a garbled answer) as replies in words. */
async function postCall(base: URL, method: string, input: unknown): Promise<CallReply> {
  let res: Response;
  try {
    res = await fetch(new URL('api/call', base), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ method, input: input ?? {} }),
    });
  } catch (err) {
    return { ok: false, error: { code: 'IO', message: `the Mask Studio server did not answer (${(err as Error).message}); is 'mask-studio serve' still running?` } };
  }
  if (res.status === 401) {
    return { ok: false, error: { code: 'BAD_INPUT', message: 'the server refused this page: open the address mask-studio serve printed (with its ?token=)' } };
  }
  const text = await res.text();
  try {
    const doc: unknown = JSON.parse(text);
    if (isReply(doc)) return doc;
  } catch {
    // fall through
  }
  return { ok: false, error: { code: 'INTERNAL', message: `unexpected answer from the server (HTTP ${res.status}): ${text.slice(0, 200)}` } };
}

export function httpTransport(base: URL = new URL('./', location.href)): Transport {
  const handlers = new Set<(event: BridgeEvent) => void>();
  const statusHandlers = new Set<(status: ConnectionStatus) => void>();
  let status: ConnectionStatus = 'connecting';
  let socket: WebSocket | null = null;
  let retry = 0;
  let everOpen = false;

  const setStatus = (s: ConnectionStatus) => {
    status = s;
    for (const h of statusHandlers) h(s);
  };
  const deliver = (event: BridgeEvent) => {
    for (const h of handlers) h(event);
  };

  function connect(): void {
    const url = new URL('api/events', base);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    setStatus('connecting');
    socket = new WebSocket(url);
    socket.onopen = () => {
      retry = 0;
      setStatus('open');
      if (everOpen) deliver({ name: 'library.changed', payload: { what: 'images' } });
      everOpen = true;
    };
    socket.onmessage = (msg) => {
      if (typeof msg.data !== 'string') return;
      try {
        const doc: unknown = JSON.parse(msg.data);
        if (isEvent(doc)) deliver(doc);
      } catch {
        // A malformed frame is dropped; the next library.changed resynchronises the views.
      }
    };
    socket.onclose = () => {
      setStatus('closed');
      socket = null;
      const delay = Math.min(10_000, 250 * 2 ** retry++);
      setTimeout(connect, delay);
    };
  }
  connect();

  return {
    name: 'http',
    call: (method, input) => postCall(base, method, input),
    onEvent(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    onStatus(handler) {
      statusHandlers.add(handler);
      handler(status);
      return () => statusHandlers.delete(handler);
    },
  };
}
