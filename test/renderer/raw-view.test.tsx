// @vitest-environment jsdom
import { cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageDetail } from '../../src-shared/contract';
import { RawView } from '../../src-renderer/history/detail/RawView';

afterEach(cleanup);

const b64 = (bytes: Buffer) => bytes.toString('base64');

function hl7Detail(raw: Buffer, rawCharset: 'utf8' | 'latin1'): MessageDetail {
  return {
    id: 1,
    instrumentId: 'h1',
    protocol: 'hl7',
    direction: 'in',
    receivedAt: 0,
    controlId: 'C1',
    sampleIds: [],
    patientIds: [],
    testCodes: [],
    status: 'stored',
    ack: 'AA',
    resultCount: 0,
    errorCount: 0,
    qc: false,
    preview: '',
    size: raw.length,
    text: '',
    raw: b64(raw),
    rawFrom: 'wire',
    rawCharset,
    profile: null,
    results: [],
    errors: [],
    parsed: [],
    trace: [],
  };
}

describe('the Raw tab', () => {
  it('shows an HL7 block in its MLLP framing, one segment per line, in the message’s charset', () => {
    const text =
      'MSH|^~\\&|A|B|C|D|20240101||ORU^R01|C1|P|2.5.1||||||UNICODE UTF-8\rOBX|1|NM|CREA||73|µmol/L\r';
    const raw = Buffer.concat([Buffer.of(0x0b), Buffer.from(text, 'utf8'), Buffer.of(0x1c, 0x0d)]);
    render(<RawView detail={hl7Detail(raw, 'utf8')} />);
    const shown = document.querySelector('pre')?.textContent;
    expect(shown).toBe(
      '␋MSH|^~\\&|A|B|C|D|20240101||ORU^R01|C1|P|2.5.1||||||UNICODE UTF-8␍\nOBX|1|NM|CREA||73|µmol/L␍␜␍\n',
    );
    expect(shown).not.toContain('Âµ');
    expect(document.body.textContent).toContain('Read as UTF-8');
  });
});
