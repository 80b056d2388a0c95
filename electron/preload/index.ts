/**
 * The sandboxed preload: `window.bridge` with `call` and `onEvent`, nothing else. The page never sees
 * ipcRenderer; only strings and structured-clonable data cross.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { CALL_CHANNEL, EVENT_CHANNEL, type Bridge, type BridgeEvent, type CallReply } from './bridge';

const bridge: Bridge = {
  call(method, input) {
    if (typeof method !== 'string') return Promise.resolve({ ok: false, error: { code: 'BAD_INPUT', message: 'method must be a string' } });
    return ipcRenderer.invoke(CALL_CHANNEL, method, input) as Promise<CallReply>;
  },
  onEvent(handler) {
    const listener = (_e: IpcRendererEvent, event: BridgeEvent) => handler(event);
    ipcRenderer.on(EVENT_CHANNEL, listener);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, listener);
    };
  },
};

contextBridge.exposeInMainWorld('bridge', bridge);
