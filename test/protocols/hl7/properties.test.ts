import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHl7 } from '../../../src-main/protocols/hl7/decode';
import type { Hl7Encoding } from '../../../src-main/protocols/hl7/encoding';
import { parseHl7, parseHl7Full, type Hl7Field } from '../../../src-main/protocols/hl7/message';
import { MllpFramer, frameMllp, type MllpItem } from '../../../src-main/protocols/hl7/mllp';
import { serializeHl7 } from '../../../src-main/protocols/hl7/serializer';
import { fixture } from './support';

const DELIMITERS = [...'|^~\\&#$%?!@*+/:;=<>{}[]'];

const encoding: fc.Arbitrary<Hl7Encoding> = fc
  .tuple(fc.shuffledSubarray(DELIMITERS, { minLength: 6, maxLength: 6 }), fc.boolean())
  .map(([[field, component, repetition, escape, subcomponent, truncation], withTruncation]) => ({
    field: field!,
    component: component!,
    repetition: repetition!,
    escape: escape!,
    subcomponent: subcomponent!,
    truncation: withTruncation ? truncation! : '',
  }));

/** Text full of delimiters, escape characters, line breaks and non-ASCII. */
const value = fc.string({
  unit: fc.constantFrom(
    ...DELIMITERS,
    'a',
    'Z',
    '7',
    ' ',
    '\r',
    '\n',
    'é',
    'µ',
    '溶',
    'X',
    'F',
    '.',
  ),
  maxLength: 8,
});

const field: fc.Arbitrary<Hl7Field> = fc.array(
  fc.array(fc.array(value, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
  { minLength: 1, maxLength: 3 },
);

const segment: fc.Arbitrary<{ name: string; fields: Hl7Field[] }> = fc.record({
  name: fc.stringMatching(/^[A-Z][A-Z0-9]{2}$/).filter((n) => !['MSH', 'FHS', 'BHS'].includes(n)),
  fields: fc.array(field, { maxLength: 6 }),
});

const message = fc.record({
  encoding,
  header: fc.array(field, { maxLength: 14 }),
  segments: fc.array(segment, { maxLength: 5 }),
});

describe('properties', () => {
  it('parse(serialize(m)) gives m back, whatever the content and the delimiters', () => {
    fc.assert(
      fc.property(message, ({ encoding: e, header, segments }) => {
        const text = serializeHl7({
          encoding: e,
          segments: [{ name: 'MSH', fields: ['', '', ...header] }, ...segments],
        });
        const parsed = parseHl7Full(text);
        const chars = e.component + e.repetition + e.escape + e.subcomponent + e.truncation;
        expect(parsed.encoding).toEqual(e);
        expect(parsed.segments).toEqual([
          { name: 'MSH', fields: [[[[e.field]]], [[[chars]]], ...header] },
          ...segments,
        ]);
      }),
      { numRuns: 300 },
    );
  });

  it('reading one value agrees with the full tree', () => {
    fc.assert(
      fc.property(message, ({ encoding: e, header, segments }) => {
        const text = serializeHl7({
          encoding: e,
          segments: [{ name: 'MSH', fields: ['', '', ...header] }, ...segments],
        });
        const lazy = parseHl7(text);
        segments.forEach((expected, i) => {
          const actual = lazy.segments[i + 1]!;
          expected.fields.forEach((f, n) => {
            expect(actual.field(n + 1)).toEqual(f);
            f.forEach((repetition, r) =>
              repetition.forEach((component, c) =>
                component.forEach((leaf, s) =>
                  expect(actual.value(n + 1, c + 1, s + 1, r + 1)).toBe(leaf),
                ),
              ),
            );
          });
        });
      }),
      { numRuns: 200 },
    );
  });

  const valid = fixture('custom-encoding-dollar.hl7');

  it('random bytes never break the framer: a valid message still comes through', () => {
    const noisy = fc.array(
      fc.oneof(
        fc.uint8Array({ maxLength: 40 }),
        fc.constantFrom(
          Uint8Array.of(0x0b),
          Uint8Array.of(0x1c),
          Uint8Array.of(0x1c, 0x0d),
          Uint8Array.of(0x0d),
        ),
      ),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(
        noisy,
        fc.integer({ min: 1, max: 50 }),
        fc.constantFrom(64, 1024 * 1024),
        (parts, step, max) => {
          const framer = new MllpFramer({ maxMessageBytes: Math.max(max, valid.length) });
          const stream = Buffer.concat(parts.map((p) => Buffer.from(p)));
          const items: MllpItem[] = [];
          for (let at = 0; at < stream.length; at += step)
            items.push(...framer.push(stream.subarray(at, at + step)));
          const after = [...framer.push(frameMllp(valid))];
          const last = after.at(-1);
          expect(last?.kind).toBe('message');
          expect(last?.kind === 'message' && last.payload.equals(valid)).toBe(true);
          expect(framer.buffered).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('decodeHl7 never throws and always gives JSON', () => {
    const pieces = fc.array(
      fc.oneof(
        fc.uint8Array({ maxLength: 60 }),
        fc.constantFrom(
          'MSH|^~\\&|',
          'MSH|',
          'MSH#',
          'MSH\r',
          '\x0b',
          '\x1c\r',
          '\r',
          '\n',
          'OBX|1|NM|GLU||5|',
          'PID|1||X',
          'OBR|1||S',
          'SPM|1|',
          '||||||UNICODE UTF-16',
          '||||||UNICODE UTF-8',
          '\\X',
          '\\',
          '\xe9\xff',
        ),
        fc
          .constantFrom(fixture('oru-r01-hematology.hl7'), fixture('oul-r22-law.hl7'))
          .chain((b) => fc.integer({ min: 0, max: b.length }).map((cut) => b.subarray(0, cut))),
      ),
      { maxLength: 15 },
    );
    fc.assert(
      fc.property(pieces, (parts) => {
        const bytes = Buffer.concat(
          parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))),
        );
        const { messages } = decodeHl7(bytes);
        expect(JSON.parse(JSON.stringify(messages))).toEqual(messages);
        for (const m of messages) expect(m.protocol).toBe('hl7');
      }),
      { numRuns: 500 },
    );
  });
});
