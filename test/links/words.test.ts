import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, normalizeAddress } from '../../src-main/links';
import { describeListenError, describeSocketError } from '../../src-main/links/words';

describe('plain words', () => {
  it('reads IPv4-mapped IPv6 addresses as the IPv4 address', () => {
    expect(normalizeAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeAddress('::FFFF:10.1.2.3')).toBe('10.1.2.3');
    expect(normalizeAddress('127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeAddress('FE80::1')).toBe('fe80::1');
    expect(normalizeAddress('::1')).toBe('::1');
  });

  it('shows sizes and durations the way a technician reads them', () => {
    expect(formatBytes(900)).toBe('900 bytes');
    expect(formatBytes(64 * 1024)).toBe('64 KiB');
    expect(formatBytes(16 * 1024 * 1024)).toBe('16 MiB');
    expect(formatBytes(1536 * 1024 * 1024)).toBe('1.5 GiB');
    expect(formatDuration(250)).toBe('250 ms');
    expect(formatDuration(1_000)).toBe('1 s');
    expect(formatDuration(1_500)).toBe('1.5 s');
    expect(formatDuration(60_000)).toBe('1 min');
    expect(formatDuration(90_000)).toBe('1 min 30 s');
    expect(formatDuration(5_400_000)).toBe('1 h 30 min');
  });

  it('explains socket failures by their code', () => {
    const error = (code: string) => Object.assign(new Error(`x ${code}`), { code });
    expect(describeListenError(error('EADDRINUSE'), '127.0.0.1', 15001)).toBe(
      'port 15001 on 127.0.0.1 is already in use',
    );
    expect(describeListenError(error('EACCES'), '0.0.0.0', 80)).toMatch(/administrator/);
    expect(describeSocketError(error('ECONNREFUSED'))).toBe(
      'nothing is listening there (connection refused)',
    );
    expect(describeSocketError(error('EWHATEVER'))).toBe('x EWHATEVER (EWHATEVER)');
  });
});
