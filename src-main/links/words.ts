/** Plain words for durations, sizes, addresses and socket failures, as a technician reads them. */

/** "500 ms", "1 s", "1.5 s", "2 min", "1 h 30 min". */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${trimDecimal(ms / 1_000)} s`;
  if (ms < 3_600_000) {
    const minutes = Math.floor(ms / 60_000);
    const seconds = Math.round((ms % 60_000) / 1_000);
    return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
  }
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.round((ms % 3_600_000) / 60_000);
  return minutes ? `${hours} h ${minutes} min` : `${hours} h`;
}

/** "900 bytes", "64 KiB", "16 MiB", "1.5 GiB". */
export function formatBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB'];
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${trimDecimal(value)} ${units[unit]}`;
}

function trimDecimal(value: number): string {
  return value.toFixed(1).replace(/\.0$/, '');
}

/**
 * The address as it should be compared and shown: lower case, and an IPv4-mapped IPv6 address
 * (`::ffff:127.0.0.1`, what a dual-stack listener reports) as the plain IPv4 address.
 */
export function normalizeAddress(address: string): string {
  const lower = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  return mapped?.[1] ?? lower;
}

/** "127.0.0.1:53122", "[::1]:53122". */
export function formatEndpoint(host: string, port: number | undefined): string {
  const shown = host.includes(':') ? `[${host}]` : host;
  return port === undefined ? shown : `${shown}:${port}`;
}

/** The errno code Node puts on socket errors, if any. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Why a listen on host:port failed, e.g. "port 15001 on 127.0.0.1 is already in use". */
export function describeListenError(error: unknown, host: string, port: number): string {
  switch (errorCode(error)) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use`;
    case 'EACCES':
    case 'EPERM':
      return `not allowed to listen on port ${port} on ${host} (ports below 1024 need administrator rights)`;
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this computer`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name ${host} could not be resolved`;
    default:
      return `listening on port ${port} on ${host} failed: ${errorText(error)}`;
  }
}

/** Why a connection attempt or an open connection failed, in words. */
export function describeSocketError(error: unknown, host?: string): string {
  const code = errorCode(error);
  switch (code) {
    case 'ECONNREFUSED':
      return 'nothing is listening there (connection refused)';
    case 'ECONNRESET':
      return 'the other side reset the connection';
    case 'EPIPE':
      return 'the other side is no longer reading (broken pipe)';
    case 'ETIMEDOUT':
      return 'the network stopped answering (timed out)';
    case 'EHOSTUNREACH':
      return 'the host cannot be reached';
    case 'ENETUNREACH':
      return 'the network cannot be reached';
    case 'EHOSTDOWN':
      return 'the host is down';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name${host ? ` ${host}` : ''} could not be resolved`;
    case 'EADDRNOTAVAIL':
      return 'the address is not available';
    default:
      return code ? `${errorText(error)} (${code})` : errorText(error);
  }
}

/** Why a serial port could not be opened or stopped working, with what to do about it. */
export function describeSerialError(
  error: unknown,
  portPath: string,
  platform: NodeJS.Platform = process.platform,
): {
  code: 'LINK_PORT_NOT_FOUND' | 'LINK_PORT_BUSY' | 'LINK_PORT_DENIED' | 'LINK_PORT_FAILED';
  message: string;
} {
  const code = errorCode(error);
  const text = errorText(error);
  if (code === 'SERIAL_UNAVAILABLE') return { code: 'LINK_PORT_FAILED', message: text };
  if (code === 'EBUSY' || /cannot lock port|resource busy|device or resource busy/i.test(text))
    return {
      code: 'LINK_PORT_BUSY',
      message: `${portPath} is in use by another program (a terminal, the vendor's software or another gateway); close it there`,
    };
  if (code === 'ENOENT' || /no such file|file not found|cannot find the file/i.test(text))
    return {
      code: 'LINK_PORT_NOT_FOUND',
      message: `there is no port ${portPath}: the USB adapter may be unplugged, the device off, or the name wrong`,
    };
  if (platform === 'win32' && /access is denied|access denied/i.test(text))
    // Windows answers "Access denied" when another program has the COM port open.
    return {
      code: 'LINK_PORT_BUSY',
      message: `${portPath} is in use by another program (the vendor's software or a terminal); close it there`,
    };
  if (code === 'EACCES' || code === 'EPERM' || /permission denied|access denied/i.test(text))
    return { code: 'LINK_PORT_DENIED', message: permissionAdvice(portPath, platform) };
  return {
    code: 'LINK_PORT_FAILED',
    message: `${portPath} failed: ${text.replace(/^Error:?\s*/i, '')}`,
  };
}

function permissionAdvice(portPath: string, platform: NodeJS.Platform): string {
  if (platform === 'linux')
    return `not allowed to open ${portPath}: add the user who runs the gateway to the dialout group (sudo usermod -aG dialout USER), then log out and in again`;
  if (platform === 'darwin')
    return `not allowed to open ${portPath}: check that the user may use the port (use the /dev/cu.* name, not /dev/tty.*)`;
  return `not allowed to open ${portPath}: check the user's rights to the port`;
}
