import type { ParsedSegment } from '../../src-shared/contract';
import { decodeRecords, type AstmField } from '../protocols/astm/records';
import { parseHl7 } from '../protocols/hl7/message';

function flatten(field: AstmField): string[] | undefined {
  if (typeof field === 'string') return undefined;
  const first = field[0];
  if (Array.isArray(first)) return (field as string[][]).map((repeat) => repeat.join('^'));
  return field as string[];
}

/** Records of an ASTM message with positions like `R-4`. */
export function parseAstmForView(text: string): ParsedSegment[] {
  return decodeRecords(text).map((record) => {
    const fields = [];
    for (let n = 1; n <= record.fieldCount; n++) {
      const components = flatten(record.field(n));
      fields.push({
        position: `${record.type}-${n}`,
        value: record.raw(n),
        ...(components ? { components } : {}),
      });
    }
    return { name: record.type, text: record.text, fields };
  });
}

/** Segments of an HL7 message with positions like `OBX-5` (MSH-1 is the separator itself). */
export function parseHl7ForView(text: string): ParsedSegment[] {
  let message;
  try {
    message = parseHl7(text);
  } catch {
    return [];
  }
  return message.segments.map((segment) => {
    const fields = [];
    for (let n = 1; n <= segment.fieldCount; n++) {
      const field = segment.field(n);
      const repetition = field[0] ?? [];
      fields.push({
        position: `${segment.name}-${n}`,
        value: segment.raw(n),
        ...(repetition.length > 1 ? { components: repetition.map((c) => c.join('&')) } : {}),
      });
    }
    return { name: segment.name, text: segment.text, fields };
  });
}
