/**
 * `npm run bench -- orders`: host query → first answer frame. A gateway in this process with one
 * ASTM server instrument on loopback and 10,000 pending orders; an analyzer (an ASTM session in
 * the instrument role on a real socket) asks for one random ordered sample at a time, and the
 * time runs from the EOT that ends its query to the first frame (STX) of the host's answer
 * session, which includes the store's commit of the query, the order lookup, the commit of the
 * answer and the ENQ/ACK exchange. Measured on an empty history and on one holding 1,000,000
 * messages (20,000 with --quick): a seed built as the history suite builds its messages, stored
 * again and again further back in time through the store's bulk path (bench/fast-fill.ts), so
 * the fill takes minutes rather than half an hour.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseGatewayConfig } from '../src-shared/config';
import { createGatewayRuntime } from '../src-main/app';
import { encodeAstmMessage, recordsToBytes } from '../src-main/protocols/astm/message';
import { AstmSession } from '../src-main/protocols/astm/session';
import { openStore } from '../src-main/store/store';
import { systemClock } from '../src-main/system-clock';
import { fastFill } from './fast-fill';
import { seededRandom } from './fixtures';
import { loadNote } from './servers/child';
import { fmt, percentile, type Row, type Suite } from './support';

const ORDERS = 10_000;
const GOAL_P99_MS = 50;
/** An O record in an answer: the query found its order. */
const ORDER_RECORD = Buffer.from('\rO|1|ORD');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** How the last large history was filled, for the report. */
let filledNote: string | null = null;

async function scenario(name: string, messages: number, queries: number): Promise<Row> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'labgw-orders-bench-'));
  const file = path.join(work, 'orders.sqlite');
  try {
    const filler = openStore({ file });
    try {
      if (messages > 0) {
        let shown = 0;
        const filled = fastFill(filler, messages, (done) => {
          if (done - shown >= 100_000) {
            shown = done;
            process.stderr.write(`orders: ${fmt(done)} messages stored\n`);
          }
        });
        const seconds = (ms: number) => fmt(ms / 1000, 1);
        filledNote =
          `the ${fmt(filled.messages)} stored messages were filled in ` +
          `${seconds(filled.buildMs + filled.insertMs + filled.indexMs)} s (a seed of ` +
          `${fmt(filled.seed)} built in ${seconds(filled.buildMs)} s, stored in ` +
          `${seconds(filled.insertMs)} s, search index ${seconds(filled.indexMs)} s)`;
        process.stderr.write(`orders: ${filledNote}\n`);
      }
      if (filler.counts().messages !== messages) {
        throw new Error(`the history holds ${filler.counts().messages} messages, not ${messages}`);
      }
      for (let from = 0; from < ORDERS; from += 1000) {
        filler.applyOrders(
          Array.from({ length: 1000 }, (_, i) => ({
            action: 'new' as const,
            sampleId: `ORD${String(from + i).padStart(6, '0')}`,
            patientId: `P${from + i}`,
            tests: ['GLUC', 'CREAT', 'NA', 'K'],
            source: 'bench',
          })),
        );
      }
      filler.checkpoint('truncate');
    } finally {
      filler.close();
    }

    const port = await freePort();
    const parsed = parseGatewayConfig({
      instruments: [
        {
          id: 'chem1',
          protocol: 'astm',
          mode: 'server',
          port,
          testCodes: { GLU: 'GLUC', CREA: 'CREAT' },
        },
      ],
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const runtime = createGatewayRuntime({ config: parsed.config, dbFile: file });
    const times: number[] = [];
    try {
      const socket = net.connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      let waitingSince: number | null = null;
      let withOrders = 0;
      let answered: (() => void) | null = null;
      const session = new AstmSession({
        clock: systemClock,
        role: 'instrument',
        onEvent: (event) => {
          if (event.type === 'send') socket.write(event.bytes);
          else if (event.type === 'messages') {
            for (const m of event.messages) if (m.text.includes(ORDER_RECORD)) withOrders++;
            session.settle(true);
          } else if (event.type === 'delivered') waitingSince = performance.now();
        },
      });
      socket.on('data', (chunk: Buffer) => {
        if (waitingSince !== null && chunk.includes(0x02)) {
          times.push(performance.now() - waitingSince);
          waitingSince = null;
        }
        session.receive(chunk);
        if (session.state === 'neutral' && waitingSince === null && answered) {
          const done = answered;
          answered = null;
          done();
        }
      });
      const random = seededRandom(7);
      for (let q = 0; q < queries; q++) {
        const sample = `ORD${String(Math.floor(random() * ORDERS)).padStart(6, '0')}`;
        const records = encodeAstmMessage({
          header: { sender: 'BENCH' },
          queries: [{ specimenIds: [sample] }],
        });
        await new Promise<void>((resolve) => {
          answered = resolve;
          session.send(recordsToBytes(records), `q${q}`);
        });
      }
      session.close();
      socket.destroy();
      if (withOrders !== queries) {
        throw new Error(`only ${withOrders} of ${queries} answers carried the ordered tests`);
      }
    } finally {
      await runtime.close();
    }
    const measured = times.slice(10);
    return {
      name,
      'stored messages': fmt(messages),
      'pending orders': fmt(ORDERS),
      queries: measured.length,
      'p50 ms': fmt(percentile(measured, 50), 2),
      'p99 ms': fmt(percentile(measured, 99), 2),
      'max ms': fmt(Math.max(...measured), 2),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export const ordersSuite: Suite = async ({ quick }) => {
  const loadBefore = os.loadavg()[0]!;
  const big = Number(process.env.ORDERS_BENCH_MESSAGES ?? (quick ? 20_000 : 1_000_000));
  const queries = quick ? 60 : 510;
  const rows = [
    await scenario('empty history', 0, queries),
    await scenario('large history', big, queries),
  ];
  const worst = Math.max(...rows.map((r) => Number(String(r['p99 ms']).replace(/,/g, ''))));
  return {
    title: 'Orders: host query to the first frame of the answer',
    method:
      `An analyzer on loopback asks for one of ${fmt(ORDERS)} pending orders at a time; the ` +
      'time runs from the EOT ending its query to the first frame of the host’s answer session ' +
      '(query committed, orders looked up, answer committed, ENQ/ACK). The first 10 queries are ' +
      `not counted. ${loadNote(loadBefore)}`,
    rows,
    ratios: [
      `worst p99 = ${fmt(worst, 2)} ms (goal < ${GOAL_P99_MS} ms)`,
      ...(filledNote ? [filledNote] : []),
    ],
  };
};
