/**
 * An HL7 analyzer for tests, as IHE LAW has it: a TCP client that asks for its work order with
 * QBP^Q11, takes RSP^K11 and the orders (OML^O33 or ORM^O01), answers each order message with
 * ORL^O34 (or ACK), and sends its results as OUL^R22. Its own MLLP framing and segment reading,
 * independent of the gateway's code.
 */
import net from 'node:net';
import { waitFor } from '../../support/ports';

export interface Hl7Received {
  text: string;
  segments: string[][];
  /** `OML^O33`, `RSP^K11`, `ACK^R22`, … */
  type: string;
  controlId: string;
}

export class Hl7Analyzer {
  readonly received: Hl7Received[] = [];
  /** MSA-1 this analyzer answers order messages with; `null`: it does not answer. */
  answerOrdersWith: 'AA' | 'AE' | 'AR' | null = 'AA';
  private buffer = Buffer.alloc(0);
  private seq = 0;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  static async connect(port: number): Promise<Hl7Analyzer> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new Hl7Analyzer(socket);
  }

  close(): void {
    this.socket.destroy();
  }

  /** Order messages received (OML/ORM). */
  get orders(): Hl7Received[] {
    return this.received.filter((m) => m.type.startsWith('OML') || m.type.startsWith('ORM'));
  }

  /** LAB-27: asks for the work order of a specimen; resolves with the RSP^K11. */
  async query(specimenId: string): Promise<Hl7Received> {
    const control = `Q${++this.seq}`;
    this.write([
      `MSH|^~\\&|ANALYZER|LAB|LABGATEWAY|LAB|20261126100000||QBP^Q11^QBP_Q11|${control}|P|2.5.1`,
      `QPD|WOS^Work Order Step^IHE_LABTF|TAG${this.seq}|${specimenId}`,
      'RCP|I||R',
    ]);
    return this.answerTo(control);
  }

  /** LAB-29: results of one specimen; resolves with the ACK. */
  async results(specimenId: string, results: [test: string, value: string][]) {
    const control = `R${++this.seq}`;
    this.write([
      `MSH|^~\\&|ANALYZER|LAB|LABGATEWAY|LAB|20261126100000||OUL^R22^OUL_R22|${control}|P|2.5.1`,
      'PID|1',
      `SPM|1|${specimenId}`,
      `OBR|1||${specimenId}|${results[0]![0]}`,
      ...results.map(([test, value], i) => `OBX|${i + 1}|NM|${test}||${value}||||||F`),
    ]);
    return this.answerTo(control);
  }

  private async answerTo(control: string): Promise<Hl7Received> {
    await waitFor(
      () => this.received.some((m) => field(m, 'MSA', 2) === control),
      `the answer to ${control}`,
    );
    return this.received.find((m) => field(m, 'MSA', 2) === control)!;
  }

  private write(segments: string[]): void {
    const text = `${segments.join('\r')}\r`;
    this.socket.write(
      Buffer.concat([Buffer.of(0x0b), Buffer.from(text, 'latin1'), Buffer.of(0x1c, 0x0d)]),
    );
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const start = this.buffer.indexOf(0x0b);
      const end = this.buffer.indexOf(Buffer.of(0x1c, 0x0d));
      if (start < 0 || end < 0) return;
      const text = this.buffer.subarray(start + 1, end).toString('latin1');
      this.buffer = this.buffer.subarray(end + 2);
      const segments = text
        .split('\r')
        .filter(Boolean)
        .map((s) => s.split('|'));
      const type = (segments[0]?.[8] ?? '').split('^').slice(0, 2).join('^');
      const message = { text, segments, type, controlId: segments[0]?.[9] ?? '' };
      this.received.push(message);
      if ((type === 'OML^O33' || type === 'ORM^O01') && this.answerOrdersWith !== null) {
        const reply = type === 'OML^O33' ? 'ORL^O34^ORL_O34' : 'ACK^O01^ACK';
        this.write([
          `MSH|^~\\&|ANALYZER|LAB|LABGATEWAY|LAB|20261126100000||${reply}|A${++this.seq}|P|2.5.1`,
          `MSA|${this.answerOrdersWith}|${message.controlId}`,
          ...(this.answerOrdersWith === 'AA'
            ? []
            : ['ERR|||207^the test is not configured on this analyzer^HL70357|E']),
        ]);
      }
    }
  }
}

/** A field of the first segment named `name` (MSH counted as HL7 does: MSH-1 is the `|`). */
export function field(message: Hl7Received, name: string, n: number): string {
  const segment = message.segments.find((s) => s[0] === name);
  if (!segment) return '';
  return segment[name === 'MSH' ? n - 1 : n] ?? '';
}
