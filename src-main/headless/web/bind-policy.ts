import net from 'node:net';

const loopback = new net.BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');
loopback.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/**
 * True for names and addresses that only this machine can reach: `localhost`, 127.0.0.0/8 and
 * ::1 (brackets allowed). Any other name may resolve to an outside address, so it counts as
 * reachable from the network; so do the wildcards 0.0.0.0 and ::.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (net.isIPv4(bare)) return loopback.check(bare, 'ipv4');
  if (net.isIPv6(bare)) return loopback.check(bare, 'ipv6');
  return false;
}

/**
 * Whether the UI may be served on `host` with this token; null when it may, else why not in
 * plain words. Other machines must never reach the gateway's commands without a token.
 */
export function webBindProblem(host: string, token: string | undefined): string | null {
  if (token !== undefined && token.length === 0) return '--token must not be empty';
  if (token === undefined && !isLoopbackHost(host)) {
    return (
      `--web ${host} can be reached from other machines, so it needs an access token: ` +
      'add --token SECRET, or bind to 127.0.0.1 to keep the UI on this machine'
    );
  }
  return null;
}

/** `HOST:PORT` (IPv6 in brackets) or `PORT`; port 0 asks for any free port. */
export function parseWebAddress(
  raw: string,
  defaultHost = '127.0.0.1',
): { host: string; port: number } | null {
  const at = raw.lastIndexOf(':');
  const hasHost = at >= 0 && !(raw.includes('::') && !raw.startsWith('['));
  const host = hasHost ? raw.slice(0, at).replace(/^\[(.*)\]$/, '$1') : defaultHost;
  const portText = hasHost ? raw.slice(at + 1) : raw;
  if (!host || !/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  return port <= 65535 ? { host, port } : null;
}

/** `host` as it goes in a URL: IPv6 addresses in brackets. */
export function urlHost(host: string): string {
  return net.isIPv6(host) ? `[${host}]` : host;
}
