/** The desktop app: `window.bridge` from the sandboxed preload. */
import type { Bridge } from '../../../../electron/preload/bridge';
import type { Transport } from './transport';

export function electronTransport(bridge: Bridge): Transport {
  return {
    name: 'electron',
    call: (method, input) => bridge.call(method, input),
    onEvent: (handler) => bridge.onEvent(handler),
    onStatus(handler) {
      // IPC does not drop: the channel lives as long as the window.
      handler('open');
      return () => {};
    },
  };
}
