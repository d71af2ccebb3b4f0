import { readFileSync } from 'node:fs';

const FIXTURES = new URL('../../fixtures/hl7/', import.meta.url);

/**
 * A fixture's bytes with its lines ended by CR, as HL7 puts them on the wire. The files keep LF so
 * they stay readable in an editor and in diffs.
 */
export function fixture(name: string): Buffer {
  const bytes = readFileSync(new URL(name, FIXTURES));
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) bytes[i] = 0x0d;
  return bytes;
}

/** A fixture as text (Latin-1: one character per byte, so only for ASCII fixtures). */
export function fixtureText(name: string): string {
  return fixture(name).toString('latin1');
}

/** Every way of cutting `bytes` into two pieces, plus byte-by-byte. */
export function* splits(bytes: Buffer): Generator<Buffer[]> {
  for (let at = 0; at <= bytes.length; at++) yield [bytes.subarray(0, at), bytes.subarray(at)];
  yield [...bytes].map((b) => Buffer.of(b));
}
