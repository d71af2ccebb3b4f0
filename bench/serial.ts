/**
 * `npm run bench -- serial`: one ASTM E1381 session carrying a message of 100 results (10 with
 * --quick) from an analyzer on the other end of a pseudo-terminal pair to the gateway's serial
 * link, at 9600 and 115200 baud, against the line's own limit.
 *
 * A pty moves bytes at memory speed whatever its baud rate, so the analyzer side plays the line:
 * it hands each frame over at the moment its last byte would arrive at that speed (10 bits per
 * byte: start, 8 data, stop), and counts each reply byte of the gateway at its own wire time
 * before going on. The line's limit is then the time of every byte of the session (ENQ, frames,
 * the gateway's ACKs, EOT) at bits per second ÷ 10 bytes per second, one after the other (E1381
 * is half duplex); measured is the time from ENQ to the ACK of the last frame, which the gateway
 * sends only after the message is committed to SQLite (durability full). The ratio line time /
 * measured time says how much of the line the gateway leaves unused: 1.0 means none.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { instrumentConfigSchema } from '../src-shared/config';
import { Gateway } from '../src-main/gateway/gateway';
import { openStore } from '../src-main/store/store';
import { fmt, type Row, type Suite } from './support';

const GOAL = 0.9;
const STX = 0x02;
const ETX = 0x03;
const EOT = 0x04;
const ENQ = 0x05;
const ACK = 0x06;

/** The records of one result message with `results` results. */
function records(results: number, session: number): string[] {
  // A different sample each time: a byte-identical message would be taken for a resend.
  const sample = `SID${String(session).padStart(6, '0')}`;
  const out = [
    'H|\\^&|||BENCH-RS232^1.0|||||||P|LIS2-A2|20260101120000',
    'P|1||PAT000123||DOE^JANE||19700101|F',
    `O|1|${sample}||^^^PANEL|R||||||N||||SERUM||||||||||F`,
  ];
  for (let i = 1; i <= results; i++)
    out.push(
      `R|${i}|^^^T${String(i).padStart(3, '0')}|${(i * 1.37).toFixed(2)}|mmol/L|1.0 to 9.9|N||F||||20260101115500`,
    );
  out.push('L|1|N');
  return out;
}

function frame(number: number, record: string): Buffer {
  const text = Buffer.from(`${record}\r`, 'latin1');
  const fn = 0x30 + (number % 8);
  let sum = fn + ETX;
  for (const byte of text) sum += byte;
  const checksum = (sum % 256).toString(16).toUpperCase().padStart(2, '0');
  return Buffer.concat([
    Buffer.of(STX, fn),
    text,
    Buffer.of(ETX),
    Buffer.from(`${checksum}\r\n`, 'latin1'),
  ]);
}

/** Waits until `performance.now()` reaches `at`: a timer for most of it, then turns of the loop. */
async function until(at: number): Promise<void> {
  const left = at - performance.now();
  if (left > 2) await new Promise((resolve) => setTimeout(resolve, left - 1.5));
  while (performance.now() < at) await new Promise((resolve) => setImmediate(resolve));
}

class PacedAnalyzer {
  private replies: number[] = [];
  private wake: (() => void) | null = null;

  constructor(
    private readonly port: SerialPort,
    private readonly byteMs: number,
  ) {
    port.on('data', (chunk: Buffer) => {
      this.replies.push(...chunk);
      this.wake?.();
    });
  }

  /** Sends the session; returns the bytes exchanged and the time from ENQ to the last ACK. */
  async session(recordList: string[]): Promise<{ bytes: number; ms: number }> {
    const frames = recordList.map((record, i) => frame(i + 1, record));
    let bytes = 0;
    const started = performance.now();
    let lineFree = started;
    const send = async (data: Buffer): Promise<void> => {
      // The receiver has the bytes once the last of them is through the line.
      lineFree += data.length * this.byteMs;
      await until(lineFree);
      this.port.write(data);
      bytes += data.length;
      const reply = await this.reply();
      bytes += 1;
      if (reply !== ACK) throw new Error(`the gateway answered 0x${reply.toString(16)}, not ACK`);
      // Its reply byte takes its own time on the line before the analyzer can go on.
      lineFree = Math.max(lineFree, performance.now()) + this.byteMs;
      await until(lineFree);
    };
    await send(Buffer.of(ENQ));
    for (const data of frames) await send(data);
    const ms = performance.now() - started;
    this.port.write(Buffer.of(EOT));
    bytes += 1;
    return { bytes, ms };
  }

  private reply(): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('no reply from the gateway in 15 s')),
        15_000,
      );
      const check = () => {
        const byte = this.replies.shift();
        if (byte === undefined) return;
        clearTimeout(timer);
        this.wake = null;
        resolve(byte);
      };
      this.wake = check;
      check();
    });
  }
}

async function ptyPair(dir: string): Promise<{ gateway: string; analyzer: string; stop(): void }> {
  const gateway = path.join(dir, 'gateway-side');
  const analyzer = path.join(dir, 'analyzer-side');
  const child: ChildProcess = spawn(
    'socat',
    [`pty,raw,echo=0,link=${gateway}`, `pty,raw,echo=0,link=${analyzer}`],
    { stdio: 'ignore' },
  );
  const failed = new Promise<never>((_, reject) =>
    child.once('error', (error) =>
      reject(
        new Error(`socat is needed for this benchmark (apt-get install socat): ${error.message}`),
      ),
    ),
  );
  const ready = (async () => {
    for (let i = 0; i < 500 && !(existsSync(gateway) && existsSync(analyzer)); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    if (!existsSync(gateway)) throw new Error('socat made no pty pair');
  })();
  await Promise.race([ready, failed]);
  return { gateway, analyzer, stop: () => child.kill('SIGTERM') };
}

async function openPort(portPath: string, baudRate: number): Promise<SerialPort> {
  const port = new SerialPort({ path: portPath, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((error) => (error ? reject(error) : resolve())),
  );
  return port;
}

/**
 * The floor: the same pty pair with a receiver that does nothing but answer ACK to ENQ and to
 * each frame's closing LF (no checks, no storage). What it loses to the line is what the pty,
 * socat and the machine cost; the gateway cannot do better.
 */
async function bareReceiver(portPath: string, baudRate: number) {
  const port = await openPort(portPath, baudRate);
  port.on('data', (chunk: Buffer) => {
    for (const byte of chunk) if (byte === ENQ || byte === 0x0a) port.write(Buffer.of(ACK));
  });
  return {
    stored: (sessions: number) => sessions,
    close: () => new Promise<void>((resolve) => port.close(() => resolve())),
  };
}

async function gatewayReceiver(portPath: string, baudRate: number, work: string) {
  const store = openStore({ file: path.join(work, 'serial.sqlite'), durability: 'full' });
  const gateway = new Gateway({ store });
  gateway.start([
    instrumentConfigSchema.parse({
      id: 'rs1',
      protocol: 'astm',
      transport: 'serial',
      serial: { path: portPath, baudRate },
    }),
  ]);
  for (let i = 0; i < 500 && gateway.status('rs1')?.state !== 'connected'; i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  return {
    stored: () => store.queryMessages({ instrumentId: 'rs1', limit: 1000 }).items.length,
    close: () => gateway.close(1_000),
  };
}

interface Timing {
  bytes: number;
  medianMs: number;
}

async function sessions(
  receiver: 'bare' | 'gateway',
  baudRate: number,
  results: number,
  rounds: number,
): Promise<Timing> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'labgw-serial-bench-'));
  const pair = await ptyPair(work);
  const target =
    receiver === 'bare'
      ? await bareReceiver(pair.gateway, baudRate)
      : await gatewayReceiver(pair.gateway, baudRate, work);
  try {
    const port = await openPort(pair.analyzer, baudRate);
    const analyzer = new PacedAnalyzer(port, 10_000 / baudRate);
    const times: number[] = [];
    let bytes = 0;
    for (let round = 0; round < rounds; round++) {
      const outcome = await analyzer.session(records(results, round));
      times.push(outcome.ms);
      bytes = outcome.bytes;
      // The line goes quiet between sessions, as between two samples.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise<void>((resolve) => port.close(() => resolve()));
    const stored = target.stored(rounds);
    if (stored !== rounds) throw new Error(`${stored} of ${rounds} sessions were stored`);
    times.sort((a, b) => a - b);
    return { bytes, medianMs: times[Math.floor(times.length / 2)]! };
  } finally {
    await target.close();
    pair.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function run(baudRate: number, results: number, rounds: number): Promise<Row[]> {
  const bare = await sessions('bare', baudRate, results, rounds);
  const ours = await sessions('gateway', baudRate, results, rounds);
  // Every byte but the final EOT lies between ENQ and the last ACK.
  const lineMs = ((ours.bytes - 1) * 10_000) / baudRate;
  const row = (name: string, timing: Timing): Row => ({
    name: `${fmt(baudRate)} baud: ${name}`,
    'bytes per session': fmt(timing.bytes),
    'line time (ms)': fmt(lineMs, 1),
    'measured, median (ms)': fmt(timing.medianMs, 1),
    'line / measured': (lineMs / timing.medianMs).toFixed(3),
  });
  return [row('bare ACK receiver (floor)', bare), row('gateway', ours)];
}

export const serialSuite: Suite = async ({ quick }) => {
  const results = quick ? 10 : 100;
  const rounds = quick ? 1 : 5;
  const loadBefore = os.loadavg()[0]!;
  const rows: Row[] = [];
  for (const baud of [9600, 115_200]) rows.push(...(await run(baud, results, rounds)));
  const pairs = [rows.slice(0, 2), rows.slice(2, 4)] as const;
  return {
    title: 'Serial link: an ASTM session over a pty against the line’s own limit',
    method: `One ASTM E1381 session (ENQ, one record per frame, each frame waiting for its ACK, EOT) carrying H, P, O, ${results} R and L, from an analyzer on a socat pty pair to the gateway's serial link, which commits the message to SQLite (durability full) before it ACKs the last frame. A pty moves bytes at memory speed whatever its baud rate, so the analyzer side plays the line: it hands each frame over when its last byte would arrive at that speed and counts each reply byte at its own wire time. Line time: every byte of the session at bits per second ÷ 10 bytes per second, one after the other (half duplex). Measured: ENQ to the ACK of the last frame, median of ${rounds} session(s). Baseline in the same run: the same sessions answered by a bare receiver that only writes ACK (no checks, no storage), i.e. what the pty, socat and the machine leave of the line. Load average (1 min) before / after: ${loadBefore.toFixed(2)} / ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} cores.`,
    rows,
    ratios: pairs.flatMap(([floor, ours]) => {
      const gateway = Number(ours!['line / measured']);
      const bare = Number(floor!['line / measured']);
      return [
        `${ours!.name}: line time / measured = ${gateway.toFixed(3)} (goal ≥ ${GOAL}; ${gateway >= GOAL ? 'met' : 'NOT met'}); the bare receiver on the same pty reaches ${bare.toFixed(3)}, so the gateway keeps ${(gateway / bare).toFixed(3)} of what the pty leaves`,
      ];
    }),
  };
};
