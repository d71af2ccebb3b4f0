/**
 * The renderer's one way to the gateway: the preload bridge (`window.gateway`) in the desktop
 * app, otherwise a WebSocket to the headless server that served this page. Both speak the same
 * contract (src-shared/contract.ts).
 */
import type { GatewayApi } from '../../src-shared/contract';
import { createWebSocketApi } from './websocket';

declare global {
  interface Window {
    /** Exposed by the Electron preload; absent in a browser. */
    gateway?: GatewayApi;
  }
}

let api: GatewayApi | null = null;
const connectionListeners = new Set<(connected: boolean) => void>();

export function getApi(): GatewayApi {
  api ??= window.gateway ?? createWebSocketApi(webSocketUrl(), notifyGatewayConnection);
  return api;
}

/**
 * Told when the page loses or regains its connection to the gateway (browser mode; the desktop
 * window's bridge never drops). Returns the unsubscribe function.
 */
export function onGatewayConnection(listener: (connected: boolean) => void): () => void {
  connectionListeners.add(listener);
  return () => connectionListeners.delete(listener);
}

export function notifyGatewayConnection(connected: boolean): void {
  for (const listener of connectionListeners) listener(connected);
}

/** For tests: use this implementation instead. */
export function setApi(replacement: GatewayApi | null): void {
  api = replacement;
}

function webSocketUrl(): string {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/ws`;
}
