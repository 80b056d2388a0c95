/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { Bridge } from '../../electron/preload/bridge';

declare global {
  interface Window {
    /** Present in the desktop app only (the preload's contextBridge). */
    bridge?: Bridge;
  }
}

export {};
