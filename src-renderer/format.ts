/** Plain words for states, durations and times, as a bench technician reads them. */
import type { InstrumentStatus } from '../src-shared/status';
import { displayParts } from './display-zone';

/** Colour family of a status word; the word itself always carries the meaning too. */
export type Tone = 'ok' | 'listening' | 'pending' | 'off' | 'bad';

export interface StatusWord {
  word: string;
  tone: Tone;
}

/** `Reconnecting in 8 s` needs the current time, so the caller passes it in. */
export function statusWord(
  status: Pick<InstrumentStatus, 'state' | 'nextRetryAt' | 'disconnectedByUser'>,
  now: number,
): StatusWord {
  switch (status.state) {
    case 'connected':
      return { word: 'Connected', tone: 'ok' };
    case 'listening':
      return { word: 'Listening', tone: 'listening' };
    case 'connecting':
      return { word: 'Connecting', tone: 'pending' };
    case 'reconnecting':
      return {
        word:
          status.nextRetryAt === null
            ? 'Reconnecting'
            : `Reconnecting in ${formatCountdown(status.nextRetryAt - now)}`,
        tone: 'pending',
      };
    case 'disabled':
      return { word: 'Disabled', tone: 'off' };
    case 'error':
      return status.disconnectedByUser
        ? { word: 'Disconnected', tone: 'off' }
        : { word: 'Down', tone: 'bad' };
  }
}

/**
 * One vocabulary on every page: a *failure* is something lost or stopped (a link down, a message
 * not stored); a *problem* was noticed and recovered from, or is worth a look (a frame NAKed and
 * sent again, junk on the line). The event log's levels, the dashboard's counts and the history's
 * statuses all use these words.
 */
export const LEVEL_WORDS = { info: 'Info', warn: 'Problem', error: 'Failure' } as const;

/** "3 problems": a card's count of problems and failures today. */
export function problemsWord(count: number): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? 'problem' : 'problems'}`;
}

/**
 * The link's reason without the retry delay it was written with ("…; trying again in 3.2 s"),
 * which would disagree with the live countdown; a link that is down and retrying gets the live
 * one instead, once, in the same words as the badge.
 */
export function liveReason(
  status: Pick<InstrumentStatus, 'state' | 'reason' | 'nextRetryAt'>,
  now: number,
): string {
  const reason = status.reason.replace(/; trying again in [^;]*$/u, '');
  if (status.nextRetryAt === null || status.state === 'reconnecting') return reason;
  return `${reason}; trying again in ${formatCountdown(status.nextRetryAt - now)}`;
}

/**
 * Time left before something happens: "8 s", "1 min 5 s". Rounded up, so the display reaches
 * "0 s" only when the moment has come.
 */
export function formatCountdown(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1_000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
}

/** How long something has lasted, coarse enough to read at a glance: "12 s", "3 min", "2 h 5 min", "3 d 4 h". */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1_000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/** "2 min ago", "just now". */
export function formatAgo(at: number, now: number): string {
  const ms = now - at;
  if (ms < 5_000) return 'just now';
  return `${formatElapsed(ms)} ago`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * Time of day in the display zone (the gateway's), with the date in front when it is not today:
 * "14:05:09", "2024-03-12 14:05".
 */
export function formatTime(at: number, now: number = Date.now()): string {
  const date = displayParts(at);
  const today = displayParts(now);
  const clock = `${pad(date.hour)}:${pad(date.minute)}:${pad(date.second)}`;
  if (date.year === today.year && date.month === today.month && date.day === today.day) {
    return clock;
  }
  return `${date.year}-${pad(date.month)}-${pad(date.day)} ${clock.slice(0, 5)}`;
}

/** `YYYY-MM-DD` of the calendar day in the display zone, the form the gateway's counters use. */
export function displayDay(at: number): string {
  const date = displayParts(at);
  return `${date.year}-${pad(date.month)}-${pad(date.day)}`;
}

/** "127.0.0.1:5000", "[::1]:5000". */
export function formatAddress(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function protocolName(protocol: 'astm' | 'hl7'): string {
  return protocol === 'astm' ? 'ASTM' : 'HL7';
}

/** What the link mode means for the person at the bench. */
export function modeName(mode: 'server' | 'client'): string {
  return mode === 'server'
    ? 'Server (analyzer connects here)'
    : 'Client (we connect to the analyzer)';
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
}
