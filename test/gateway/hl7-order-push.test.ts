/**
 * Order messages to an HL7 analyzer without sockets, on a fake clock: each waits for its ORL^O34
 * or ACK; an unanswered one is sent again (same control ID) after the timeout, and given up after
 * the last try with its orders left pending; the next message waits for the one on the line.
 */
import { describe, expect, it } from 'vitest';
import { instrumentConfigSchema } from '../../src-shared/config';
import type { InstrumentContext } from '../../src-main/gateway/context';
import {
  Hl7ConnectionHandler,
  ORDER_ACK_TIMEOUT_MS,
  ORDER_SEND_TRIES,
} from '../../src-main/gateway/hl7-handler';
import type { Hl7OrderOut } from '../../src-main/gateway/orders-port';
import { frameMllp } from '../../src-main/protocols/hl7/mllp';
import { FakeClock } from '../support/fake-clock';

function oml(controlId: string, sample: string, orderId: number): Hl7OrderOut {
  return {
    text: [
      `MSH|^~\\&|LABGATEWAY|LAB|immuno1||20261126100000||OML^O33^OML_O33|${controlId}|P|2.5.1`,
      `SPM|1|${sample}`,
      `ORC|NW|${orderId}`,
      `OBR|1|${orderId}|${sample}|TSH`,
      '',
    ].join('\r'),
    controlId,
    orderIds: [orderId],
    cancelledIds: [],
    sampleIds: [sample],
    patientIds: [],
  };
}

function rig() {
  const clock = new FakeClock();
  const sent: number[][] = [];
  const outcomes: { id: number; status?: string; ack?: string | null }[] = [];
  const notes: string[] = [];
  const downloads: Hl7OrderOut[][] = [[oml('C1', 'S1', 1), oml('C2', 'S2', 2)]];
  let rows = 0;
  const context: InstrumentContext = {
    config: instrumentConfigSchema.parse({
      id: 'immuno1',
      protocol: 'hl7',
      mode: 'server',
      port: 1,
      orders: { download: 'push' },
    }),
    clock,
    persist: () => Promise.resolve({ id: ++rows, duplicate: false }),
    stored: () => undefined,
    storageFailed: () => undefined,
    protocolError: () => undefined,
    note: (_level, code, message) => notes.push(`${code ?? ''}: ${message}`),
    updateOutcome: (id, change) => outcomes.push({ id, ...change }),
    nextControlId: () => `X${rows}`,
    orders: {
      answerHostQuery: () => null,
      resultsStored: () => undefined,
      sent: () => undefined,
      nextDownload: () => null,
      hl7OrdersFor: () => [],
      nextHl7Download: () => downloads.shift() ?? [],
    },
    ordersSent: (ids) => sent.push([...ids]),
  };
  const written: string[] = [];
  const handler = new Hl7ConnectionHandler(
    {
      id: 'c#1',
      peer: 'test',
      write: (bytes) => {
        written.push(bytes.toString('latin1'));
        return true;
      },
      close: () => undefined,
    },
    context,
  );
  const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 5));
  const reply = async (controlId: string, code = 'AA') => {
    const text = `MSH|^~\\&|AN|LAB|LABGATEWAY|LAB|20261126100001||ORL^O34^ORL_O34|R-${controlId}|P|2.5.1\rMSA|${code}|${controlId}\r`;
    handler.onData(frameMllp(Buffer.from(text, 'latin1')));
    await settle();
  };
  const controlIds = () => written.map((w) => /OML\^O33\^OML_O33\|([^|]*)\|/.exec(w)?.[1]);
  return {
    clock,
    handler,
    written,
    controlIds,
    sent,
    outcomes,
    notes,
    reply,
    settle,
    more: (d: Hl7OrderOut[]) => downloads.push(d),
  };
}

describe('order messages to an HL7 analyzer', () => {
  it('sends one at a time, each after the answer to the one before', async () => {
    const t = rig();
    t.handler.pushOrders();
    await t.settle();
    expect(t.controlIds()).toEqual(['C1']);
    // An answer naming another message changes nothing.
    await t.reply('C9');
    expect(t.controlIds()).toEqual(['C1']);
    await t.reply('C1');
    expect(t.controlIds()).toEqual(['C1', 'C2']);
    t.more([oml('C3', 'S3', 3)]); // arrived meanwhile: goes once this download is done
    t.handler.pushOrders(); // a download is on the line: nothing starts
    expect(t.controlIds()).toEqual(['C1', 'C2']);
    await t.reply('C2');
    expect(t.controlIds()).toEqual(['C1', 'C2', 'C3']);
    await t.reply('C3');
    expect(t.sent).toEqual([[1], [2], [3]]);
    expect(t.outcomes.filter((o) => o.status === 'sent')).toHaveLength(3);
  });

  it('sends an unanswered message again after the timeout, with the same control ID', async () => {
    const t = rig();
    t.handler.pushOrders();
    await t.settle();
    t.clock.advance(ORDER_ACK_TIMEOUT_MS - 1);
    expect(t.controlIds()).toEqual(['C1']);
    t.clock.advance(1);
    expect(t.controlIds()).toEqual(['C1', 'C1']);
    expect(t.notes[0]).toMatch(/^ORDER_NO_REPLY: no answer to the orders for sample S1/);
    await t.reply('C1');
    expect(t.controlIds()).toEqual(['C1', 'C1', 'C2']);
    expect(t.sent).toEqual([[1]]);
  });

  it('gives up after the last try: the orders stay pending and the rest of the download waits', async () => {
    const t = rig();
    t.handler.pushOrders();
    await t.settle();
    for (let i = 0; i < ORDER_SEND_TRIES; i++) t.clock.advance(ORDER_ACK_TIMEOUT_MS);
    await t.settle();
    expect(t.controlIds()).toEqual(Array(ORDER_SEND_TRIES).fill('C1'));
    expect(t.sent).toEqual([]);
    expect(t.outcomes.map((o) => o.status)).toEqual(['failed', 'failed']);
    expect(t.notes.at(-1)).toContain('they stay pending');
    // A later trigger (a new order, the next connection) starts a new download.
    t.more([oml('C4', 'S1', 1)]);
    t.handler.pushOrders();
    await t.settle();
    expect(t.controlIds().at(-1)).toBe('C4');
  });

  it('a closed connection leaves the orders pending, nothing counted as sent', async () => {
    const t = rig();
    t.handler.pushOrders();
    await t.settle();
    t.handler.onClose({ code: 'LINK_PEER_CLOSED', message: 'gone' });
    await t.settle();
    t.clock.advance(ORDER_ACK_TIMEOUT_MS * 5);
    expect(t.controlIds()).toEqual(['C1']);
    expect(t.sent).toEqual([]);
  });
});
