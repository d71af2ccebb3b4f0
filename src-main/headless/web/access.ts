import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from './bind-policy';

/** What a request presented, checked against the access token. */
export type AccessVerdict = 'allowed' | 'missing' | 'wrong';

/**
 * The access token of a gateway served beyond this machine. A browser presents it once
 * (`?token=`) and then carries a session cookie; scripts may send `Authorization: Bearer`.
 * The cookie holds an HMAC of the token, not the token, so it stays valid across restarts and
 * becomes invalid as soon as the token changes.
 */
export class AccessGuard {
  readonly cookieName: string;
  private readonly tokenDigest: Buffer | null;
  private readonly sessionValue: string | null;

  constructor(token: string | undefined, port: number) {
    // Cookies ignore ports: two gateways on one host must not overwrite each other's session.
    this.cookieName = `labgw_session_${port}`;
    this.tokenDigest = token === undefined ? null : digest(token);
    this.sessionValue =
      token === undefined
        ? null
        : createHmac('sha256', token).update('lab-gateway web session').digest('base64url');
  }

  get required(): boolean {
    return this.tokenDigest !== null;
  }

  /** Constant-time: both sides are hashed to the same length first. */
  tokenMatches(candidate: string): boolean {
    if (!this.tokenDigest) return true;
    return timingSafeEqual(digest(candidate), this.tokenDigest);
  }

  /** Cookie or bearer header; a `?token=` in the URL is handled by the caller. */
  check(request: IncomingMessage): AccessVerdict {
    if (!this.sessionValue) return 'allowed';
    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (bearer !== undefined) return this.tokenMatches(bearer.trim()) ? 'allowed' : 'wrong';
    const sessions = cookieValues(request.headers.cookie, this.cookieName);
    if (sessions.length === 0) return 'missing';
    const expected = digest(this.sessionValue);
    return sessions.some((value) => timingSafeEqual(digest(value), expected)) ? 'allowed' : 'wrong';
  }

  /** The Set-Cookie value that lets the browser in after it presented the right token. */
  sessionCookie(): string {
    return `${this.cookieName}=${this.sessionValue ?? ''}; Path=/; HttpOnly; SameSite=Strict`;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

/** The host name of a Host header (`127.0.0.1:8080` → `127.0.0.1`, `[::1]:80` → `[::1]`). */
export function hostName(hostHeader: string | undefined): string | null {
  if (!hostHeader) return null;
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return null;
  }
}

/**
 * A gateway bound to loopback without a token answers only to loopback Host names. Otherwise a
 * web page could point its own domain at 127.0.0.1 (DNS rebinding) and talk to the gateway as a
 * same-origin page.
 */
export function hostAllowed(request: IncomingMessage, loopbackOnly: boolean): boolean {
  if (!loopbackOnly) return true;
  const name = hostName(request.headers.host);
  return name !== null && isLoopbackHost(name);
}

/**
 * A browser always sends Origin with a WebSocket handshake; it must be this server's own origin,
 * so that no other site's page can open the bridge with the user's cookie. Programs that are not
 * browsers send none and cannot be lured into it, so a missing Origin is accepted.
 */
export function originAllowed(request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  const host = request.headers.host?.toLowerCase();
  if (!host) return false;
  const normalized = origin.toLowerCase();
  return normalized === `http://${host}` || normalized === `https://${host}`;
}
