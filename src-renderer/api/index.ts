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

export function getApi(): GatewayApi {
  api ??= window.gateway ?? createWebSocketApi(webSocketUrl());
  return api;
}

/** For tests: use this implementation instead. */
export function setApi(replacement: GatewayApi | null): void {
  api = replacement;
}

function webSocketUrl(): string {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/ws`;
}
