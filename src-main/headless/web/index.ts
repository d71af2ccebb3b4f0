export { isLoopbackHost, parseWebAddress, webBindProblem } from './bind-policy';
export { DOWNLOAD_PATH_PREFIX, DownloadRegistry, type DownloadOptions } from './downloads';
export { CONTENT_SECURITY_POLICY } from './pages';
export { DEFAULT_BRIDGE_LIMITS, type BridgeLimits } from './socket-bridge';
export {
  WEBSOCKET_PATH,
  WebServerError,
  startWebServer,
  type WebServer,
  type WebServerOptions,
} from './server';
