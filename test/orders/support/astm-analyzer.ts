/**
 * An analyzer for tests: a TCP client with an ASTM session in the instrument role. It sends
 * host queries and results, accepts what the host sends (query answers, pushed orders) and keeps
 * their records. Built on the protocol session only, not on the gateway's handler.
 */
import net from 'node:net';
import {
  decodeMessages,
  encodeAstmMessage,
  recordsToBytes,
  type AstmOutboundMessage,
  type DecodedAstmMessage,
} from '../../../src-main/protocols/astm/message';
import { bytesToText } from '../../../src-main/protocols/astm/records';
import { AstmSession } from '../../../src-main/protocols/astm/session';
import { systemClock } from '../../../src-main/system-clock';
import { waitFor } from '../../support/ports';

export class TestAnalyzer {
  readonly received: DecodedAstmMessage[] = [];
  readonly delivered = new Set<string>();
  private readonly session: AstmSession;
  private seq = 0;

  private constructor(private readonly socket: net.Socket) {
    this.session = new AstmSession({
      clock: systemClock,
      role: 'instrument',
      onEvent: (event) => {
        if (event.type === 'send') socket.write(event.bytes);
        else if (event.type === 'messages') {
          for (const m of event.messages) {
            this.received.push(...decodeMessages(bytesToText(m.text)));
          }
          this.session.settle(true);
        } else if (event.type === 'delivered') this.delivered.add(event.id);
      },
    });
    socket.on('data', (chunk: Buffer) => this.session.receive(chunk));
  }

  static async connect(port: number): Promise<TestAnalyzer> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new TestAnalyzer(socket);
  }

  /** Sends one message and waits until the host took every frame. */
  async send(message: AstmOutboundMessage): Promise<void> {
    const id = `m${++this.seq}`;
    this.session.send(recordsToBytes(encodeAstmMessage(message)), id);
    await waitFor(() => this.delivered.has(id), `the host to take message ${id}`);
  }

  async query(sampleId: string): Promise<DecodedAstmMessage> {
    const before = this.received.length;
    await this.send({ header: { sender: 'ANALYZER' }, queries: [{ specimenIds: [sampleId] }] });
    await waitFor(() => this.received.length > before, `the answer for ${sampleId}`);
    return this.received[before]!;
  }

  close(): void {
    this.session.close();
    this.socket.destroy();
  }
}
