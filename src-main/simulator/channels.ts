/**
 * The analyzer's end of one connection: its socket wired to an ASTM session (instrument role:
 * ENQ, frames, EOT) or an HL7 sender (MLLP, ACKs matched by control ID). Shared by `gateway
 * simulate`, whose channels end with its run, and the demo analyzers, which open a new one each
 * time the gateway's link connects again.
 */
import type net from 'node:net';
import { recordsToBytes } from '../protocols/astm/message';
import { AstmSession } from '../protocols/astm/session';
import type { Clock } from '../protocols/clock';
import { Hl7Sender } from '../protocols/hl7/sender';
import { astmRecords, hl7Oru, type SimulatedSample } from './content';

export type AnalyzerProtocol = 'astm' | 'hl7';

/** What becomes of the messages a channel sends, and of its connection. */
export interface ChannelEvents {
  /** The gateway acknowledged the message. */
  acked(id: string): void;
  /** The message will not be acknowledged: "rejected…" when the gateway refused it, "timeout…" when no answer came. */
  failed?(id: string, error: string): void;
  /** The connection ended, with why in words; the protocol is closed already. Called once. */
  lost?(why: string): void;
}

export interface ChannelOptions {
  clock: Clock;
  /** HL7: how long to wait for each ACK. ASTM's own timers govern its retries. */
  ackTimeoutMs?: number;
}

export interface AnalyzerChannel {
  /**
   * Sends the sample as the protocol's result message under `id` (ASTM: the sample ID it is
   * reported by; HL7: the control ID, MSH-10). Its outcome comes through `acked` or `failed`.
   */
  send(sample: SimulatedSample, id: string, at: number): void;
  /** No message is waiting for its acknowledgement. */
  readonly idle: boolean;
  /** Why the connection ended, once it has. */
  readonly lost: string | null;
  /** Stops the protocol and ends the connection politely. */
  close(): void;
}

/** Where a protocol reports each message's end. */
type Outcomes = Required<Pick<ChannelEvents, 'acked' | 'failed'>>;

/** The protocol side of a channel, fed by the socket. */
interface ProtocolEnd {
  receive(chunk: Buffer): void;
  send(sample: SimulatedSample, id: string, at: number): void;
  close(): void;
}

type OpenProtocolEnd = (
  write: (bytes: Buffer) => void,
  options: ChannelOptions,
  events: Outcomes,
) => ProtocolEnd;

/**
 * Wires a connected socket to the protocol. The socket's opening, and what to do after it is
 * lost, stay with the caller; its errors are absorbed here and reported through `lost`.
 */
export function openChannel(
  protocol: AnalyzerProtocol,
  socket: net.Socket,
  options: ChannelOptions,
  events: ChannelEvents,
): AnalyzerChannel {
  const waiting = new Set<string>();
  const outcomes: Outcomes = {
    acked: (id) => {
      waiting.delete(id);
      events.acked(id);
    },
    failed: (id, error) => {
      waiting.delete(id);
      events.failed?.(id, error);
    },
  };
  const write = (bytes: Buffer): void => void socket.write(bytes);
  const end =
    protocol === 'astm' ? astmEnd(write, options, outcomes) : hl7End(write, options, outcomes);

  let lost: string | null = null;
  let why = 'the gateway closed the connection';
  socket.setNoDelay(true);
  socket.on('error', (error: NodeJS.ErrnoException) => {
    why = `connection error: ${error.code ?? error.message}`;
  });
  socket.on('data', (chunk: Buffer) => end.receive(chunk));
  socket.once('close', () => {
    lost = why;
    // Closing first fails what the protocol still holds, before the loss is reported.
    end.close();
    events.lost?.(why);
  });

  return {
    send(sample, id, at) {
      waiting.add(id);
      try {
        end.send(sample, id, at);
      } catch (error) {
        waiting.delete(id);
        throw error;
      }
    },
    get idle() {
      return waiting.size === 0;
    },
    get lost() {
      return lost;
    },
    close() {
      end.close();
      socket.end();
    },
  };
}

const astmEnd: OpenProtocolEnd = (write, options, events) => {
  const session = new AstmSession({
    clock: options.clock,
    role: 'instrument',
    onEvent: (event) => {
      if (event.type === 'send') write(event.bytes);
      else if (event.type === 'delivered') events.acked(event.id);
      else if (event.type === 'deliveryFailed' && !event.willRetry) {
        events.failed(event.id, `rejected: ${event.error.message}`);
      }
    },
  });
  return {
    receive: (chunk) => session.receive(chunk),
    send: (sample, id, at) => session.send(recordsToBytes(astmRecords(sample, at), 'latin1'), id),
    close: () => session.close(),
  };
};

const hl7End: OpenProtocolEnd = (write, options, events) => {
  const sender = new Hl7Sender({
    clock: options.clock,
    ackTimeoutMs: options.ackTimeoutMs ?? 30_000,
    onEvent: (event) => {
      switch (event.type) {
        case 'send':
          write(event.bytes);
          break;
        case 'acked':
          events.acked(event.id);
          break;
        case 'rejected':
          events.failed(event.id, `rejected ${event.code}: ${event.text}`);
          break;
        case 'timeout':
          events.failed(event.id, `timeout: ${event.error.message}`);
          break;
        default:
          break;
      }
    },
  });
  return {
    receive: (chunk) => sender.receive(chunk),
    send: (sample, id, at) => void sender.send(hl7Oru(sample, id, at)),
    close: () => void sender.close(),
  };
};
