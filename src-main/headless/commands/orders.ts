import { existsSync, readFileSync } from 'node:fs';
import { orderStateSchema, type OrderState } from '../../../src-shared/orders';
import { readOrdersCsv } from '../../orders/csv-orders';
import type { OrderChange } from '../../store/orders';
import { openStore } from '../../store/store';
import {
  RunError,
  UsageError,
  parseCommandArgs,
  requireInt,
  writeLine,
  type Io,
} from '../cli-support';

const HELP = `Usage: lab-gateway orders --db FILE [--sample ID] [--state S] [--instrument ID] [--limit N] --json
       lab-gateway orders add --db FILE --sample ID --tests GLU,CREA [--patient ID] [--name NAME]
                              [--priority S|A|R] [--instrument ID]
       lab-gateway orders import --db FILE FILE.csv

Orders from the LIS (and added by hand), newest first, one JSON object per line.
  --sample       only the orders of this sample
  --state        pending, sent, resulted or cancelled
  --instrument   only orders meant for this instrument
  --limit        at most N orders (default 1000)
"orders add" stores an order for a sample the LIS did not send; the tests are LIS codes.
"orders import" reads a CSV file whose first line names the columns: sample, tests, and
optionally patient, name, priority, instrument (tests separated by ; or spaces).
A running gateway on the same database answers the instruments' queries with them at once.`;

export async function ordersCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('orders', argv, {
    db: { type: 'string' },
    sample: { type: 'string' },
    state: { type: 'string' },
    instrument: { type: 'string' },
    limit: { type: 'string' },
    tests: { type: 'string' },
    patient: { type: 'string' },
    name: { type: 'string' },
    priority: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    writeLine(io.stdout, HELP);
    return 0;
  }
  const [action, ...rest] = positionals;
  if (!values.db) throw new UsageError('orders: --db FILE is required');
  const db = values.db;
  if (action === 'add') {
    if (rest.length > 0) throw new UsageError(`orders add: unexpected argument "${rest[0]}"`);
    if (!values.sample?.trim()) throw new UsageError('orders add: --sample ID is required');
    const tests = (values.tests ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    if (tests.length === 0) throw new UsageError('orders add: --tests CODE[,CODE...] is required');
    const change: OrderChange = {
      action: 'new',
      sampleId: values.sample.trim(),
      tests,
      patientId: values.patient ?? null,
      patientName: values.name ?? null,
      priority: values.priority ?? null,
      instrumentId: values.instrument ?? null,
      source: 'manual',
    };
    return withWritableStore(db, (store) => {
      const [outcome] = store.applyOrders([change]);
      const orderId = outcome?.orderId ?? null;
      const order = orderId === null ? null : store.getOrder(orderId);
      if (order) writeLine(io.stdout, order);
      return 0;
    });
  }
  if (action === 'import') {
    const [file, extra] = rest;
    if (!file) throw new UsageError('orders import: the CSV FILE is required');
    if (extra !== undefined) throw new UsageError(`orders import: unexpected argument "${extra}"`);
    if (!existsSync(file)) throw new RunError(`orders import: no file at "${file}"`);
    const csv = readOrdersCsv(readFileSync(file, 'utf8'));
    for (const p of csv.problems) io.stderr.write(`${file}:${p.line}: ${p.message}\n`);
    return withWritableStore(db, (store) => {
      const outcomes = store.applyOrders(csv.changes);
      writeLine(io.stdout, {
        imported: outcomes.filter((o) => o.orderId !== null).length,
        skipped: csv.problems.length,
      });
      return csv.problems.length > 0 ? 1 : 0;
    });
  }
  if (action !== undefined) throw new UsageError(`orders: unknown action "${action}"; see --help`);
  let state: OrderState | undefined;
  if (values.state !== undefined) {
    const parsed = orderStateSchema.safeParse(values.state);
    if (!parsed.success) {
      throw new UsageError('orders: --state must be pending, sent, resulted or cancelled');
    }
    state = parsed.data;
  }
  const limit = requireInt('orders', 'limit', values.limit, 1000, 1);
  if (!existsSync(db)) throw new RunError(`orders: no database at "${db}"`);
  const store = openStore({ file: db, readonly: true });
  try {
    for (const order of store.listOrders({
      limit,
      ...(values.sample ? { sampleId: values.sample } : {}),
      ...(state ? { state } : {}),
      ...(values.instrument ? { instrumentId: values.instrument } : {}),
    })) {
      writeLine(io.stdout, order);
    }
  } finally {
    store.close();
  }
  return 0;
}

function withWritableStore(
  file: string,
  work: (store: ReturnType<typeof openStore>) => number,
): number {
  const store = openStore({ file });
  try {
    return work(store);
  } finally {
    store.close();
  }
}
