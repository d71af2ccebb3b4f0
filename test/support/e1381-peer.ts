/**
 * An analyzer's sending side of ASTM E1381, written from the standard for the tests on its own
 * (it shares no code with the gateway's session): ENQ, one record per frame (long records split
 * into ETB frames), each frame waiting for ACK, then EOT. It works over any byte stream: a serial
 * port, a socket.
 */
const STX = 0x02;
const ETX = 0x03;
const EOT = 0x04;
const ENQ = 0x05;
const ACK = 0x06;
const ETB = 0x17;

export interface ByteLine {
  write(bytes: Buffer): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
}

export class E1381Sender {
  private replies: number[] = [];
  private waiting: (() => void) | null = null;
  /** Every byte the host sent back, in order. */
  readonly received: number[] = [];

  constructor(private readonly line: ByteLine) {
    line.on('data', (chunk) => {
      for (const byte of chunk) {
        this.received.push(byte);
        this.replies.push(byte);
      }
      this.waiting?.();
    });
  }

  /** Sends one message (records without their CR) and resolves once the host took every frame. */
  async send(records: readonly string[], replyMs = 5_000, frameText = 240): Promise<void> {
    await this.exchange(Buffer.of(ENQ), replyMs, 'ENQ');
    let number = 1;
    for (const record of records) {
      const text = Buffer.from(`${record}\r`, 'latin1');
      for (let at = 0; at < text.length; at += frameText) {
        const part = text.subarray(at, at + frameText);
        const last = at + frameText >= text.length;
        await this.exchange(frame(number, part, last), replyMs, `frame ${number}`);
        number = (number + 1) % 8;
      }
    }
    this.line.write(Buffer.of(EOT));
  }

  private async exchange(bytes: Buffer, replyMs: number, what: string): Promise<void> {
    this.replies = [];
    this.line.write(bytes);
    const reply = await this.nextReply(replyMs, what);
    if (reply !== ACK) throw new Error(`${what} was answered 0x${reply.toString(16)}, not ACK`);
  }

  private nextReply(ms: number, what: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        reject(new Error(`no reply to ${what} within ${ms} ms`));
      }, ms);
      const check = () => {
        const byte = this.replies.shift();
        if (byte === undefined) return;
        clearTimeout(timer);
        this.waiting = null;
        resolve(byte);
      };
      this.waiting = check;
      check();
    });
  }
}

/** STX FN text ETB|ETX C1 C2 CR LF; the checksum sums FN through ETB/ETX, modulo 256. */
export function frame(number: number, text: Buffer, last: boolean): Buffer {
  const fn = 0x30 + (number % 8);
  const end = last ? ETX : ETB;
  let sum = fn + end;
  for (const byte of text) sum += byte;
  const checksum = (sum % 256).toString(16).toUpperCase().padStart(2, '0');
  return Buffer.concat([
    Buffer.of(STX, fn),
    text,
    Buffer.of(end),
    Buffer.from(`${checksum}\r\n`, 'latin1'),
  ]);
}
