/** How the page reaches core: Electron's preload bridge or `serve`'s HTTP + WebSocket. Same messages both ways. */
import type { BridgeEvent, CallReply } from '../../../../electron/preload/bridge';

export type { BridgeEvent, CallReply };

export type ConnectionStatus = 'connecting' | 'open' | 'closed';

export interface Transport {
  readonly name: 'electron' | 'http';
  call(method: string, input: unknown): Promise<CallReply>;
  onEvent(handler: (event: BridgeEvent) => void): () => void;
  onStatus(handler: (status: ConnectionStatus) => void): () => void;
}
