/**
 * One message's exchange on the wire, found in the session trace: for ASTM its ENQ, frames (the
 * ones NAKed and sent again too), the gateway's ACKs and the EOT; for HL7 its MLLP block and the
 * acknowledgement that answered it. Nothing of the message before or after.
 *
 * A message stored with its exchange (where its bytes lie in its connection's stream) is placed
 * by those offsets (`exchangeAt`); one stored before that is looked for by its bytes
 * (`findExchange`).
 *
 * The exchange is named by its boundaries: the connection, and the first and last trace rows with
 * the byte offsets where it starts and ends inside them. The trace rows stay the single copy of
 * the bytes; the exchange is a view of them.
 */
import type { Direction, MessageExchange, TraceEntry } from '../store/types';

const STX = 0x02;
const ENQ = 0x05;
const EOT = 0x04;
const CR = 0x0d;
const LF = 0x0a;
const VT = 0x0b;
const FS = 0x1c;

/** A byte of the trace: row `traceId`, `offset` bytes into it. */
export interface TracePoint {
  traceId: number;
  offset: number;
}

export interface ExchangeBounds {
  connectionId: string;
  /** The exchange's first byte. */
  first: TracePoint;
  /** The exchange's last byte (inclusive). */
  last: TracePoint;
}

export interface Exchange {
  bounds: ExchangeBounds;
  /** The trace rows of the exchange, the first and last cut at the boundaries. */
  trace: TraceEntry[];
  /** The bytes the message's sender put on the wire for it, framing included, in order. */
  sent: Buffer;
}

export interface ExchangeMessage {
  protocol: 'astm' | 'hl7';
  direction: Direction;
  receivedAt: number;
  /** As stored: ASTM the accepted frames (STX to checksum) in order; HL7 the block's payload. */
  raw: Uint8Array;
}

/** Where in a connection's rows a byte of one direction's stream lies. */
interface Position {
  row: number;
  offset: number;
}

/**
 * Finds the message's exchange among trace rows (oldest first, any connection of its instrument).
 * Null when the trace no longer holds it (purged, tracing off) or never held it whole.
 */
export function findExchange(
  message: ExchangeMessage,
  rows: readonly TraceEntry[],
): Exchange | null {
  const raw = Buffer.from(message.raw);
  if (raw.length === 0) return null;
  const byConnection = new Map<string, TraceEntry[]>();
  for (const row of rows) {
    const list = byConnection.get(row.connectionId) ?? [];
    list.push(row);
    byConnection.set(row.connectionId, list);
  }
  let best: Exchange | null = null;
  let bestAt = -Infinity;
  for (const [connectionId, list] of byConnection) {
    const found = findOnConnection(message, raw, connectionId, list);
    if (!found) continue;
    const at = found.trace.at(-1)!.at;
    // The exchange that ended last before the message was stored is this message's.
    if (at <= message.receivedAt + 5_000 && at > bestAt) {
      best = found;
      bestAt = at;
    }
  }
  return best;
}

function findOnConnection(
  message: ExchangeMessage,
  raw: Buffer,
  connectionId: string,
  rows: readonly TraceEntry[],
): Exchange | null {
  const own = message.direction;
  // The sender's stream; the message lies in what it had sent when the message was stored.
  const ownRows: number[] = [];
  rows.forEach((row, index) => {
    if (row.direction === own) ownRows.push(index);
  });
  if (ownRows.length === 0) return null;
  const starts: number[] = [];
  let total = 0;
  let storedBy = 0;
  for (const index of ownRows) {
    starts.push(total);
    total += rows[index]!.bytes.length;
    if (rows[index]!.at <= message.receivedAt) storedBy = total;
  }
  const stream = Buffer.concat(ownRows.map((index) => rows[index]!.bytes));
  const span =
    message.protocol === 'astm' ? astmSpan(stream, raw, storedBy) : hl7Span(stream, raw, storedBy);
  if (!span) return null;
  return exchangeOf(message, connectionId, rows, { ownRows, starts, stream }, span);
}

/**
 * The exchange of a message stored with where its bytes lie in its connection's stream: no
 * search, the trace rows of that connection are placed by their stream offsets. Null when the
 * trace no longer holds all of the message's bytes (purged, tracing off, rows without offsets).
 */
export function exchangeAt(
  message: ExchangeMessage,
  exchange: MessageExchange,
  rows: readonly TraceEntry[],
): Exchange | null {
  const first = exchange.ranges[0];
  const last = exchange.ranges.at(-1);
  if (!first || !last) return null;
  const own = message.direction;
  const ownRows: number[] = [];
  const starts: number[] = [];
  let next: number | null = null;
  rows.forEach((row, index) => {
    if (row.connectionId !== exchange.connectionId || row.direction !== own) return;
    if (row.offset === undefined) return;
    // Only a run of rows without gaps makes one stream.
    if (next !== null && row.offset !== next) {
      if (row.offset > first[0]) return;
      ownRows.length = 0;
      starts.length = 0;
    }
    ownRows.push(index);
    starts.push(row.offset);
    next = row.offset + row.bytes.length;
  });
  if (ownRows.length === 0) return null;
  const base = starts[0]!;
  const stream = Buffer.concat(ownRows.map((index) => rows[index]!.bytes));
  const from = first[0] - base;
  const to = last[0] + last[1] - base;
  if (from < 0 || to > stream.length) return null;
  // The stored bytes must be what the trace holds at those offsets.
  let at = 0;
  const raw = Buffer.from(message.raw);
  for (const [offset, length] of exchange.ranges) {
    const piece = stream.subarray(offset - base, offset - base + length);
    if (!piece.equals(raw.subarray(at, at + length))) return null;
    at += length;
  }
  const span =
    message.protocol === 'astm' ? astmWiden(stream, from, to) : hl7Widen(stream, from, to);
  const relative = starts.map((start) => start - base);
  const connectionRows = rows.filter((row) => row.connectionId === exchange.connectionId);
  const indexOf = new Map(connectionRows.map((row, index) => [row, index]));
  return exchangeOf(
    message,
    exchange.connectionId,
    connectionRows,
    {
      ownRows: ownRows.map((index) => indexOf.get(rows[index]!)!),
      starts: relative,
      stream,
    },
    span,
  );
}

/** The sender's rows of one connection as one stream: `starts[k]` is where ownRows[k] begins. */
interface OwnStream {
  ownRows: number[];
  starts: number[];
  stream: Buffer;
}

function exchangeOf(
  message: ExchangeMessage,
  connectionId: string,
  rows: readonly TraceEntry[],
  { ownRows, starts, stream }: OwnStream,
  span: Span,
): Exchange {
  const positionOf = (streamOffset: number): Position => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= streamOffset) lo = mid;
      else hi = mid - 1;
    }
    return { row: ownRows[lo]!, offset: streamOffset - starts[lo]! };
  };
  const first = positionOf(span.start);
  let last = positionOf(span.end - 1);
  // The answer that follows: the ACK of the last frame, or the HL7 acknowledgement.
  if (!span.closed) last = withAnswer(rows, last, message.direction, message.protocol);
  const trace = cut(rows, first, last);
  const sent = stream.subarray(span.start, span.end);
  return {
    bounds: {
      connectionId,
      first: { traceId: rows[first.row]!.id, offset: first.offset },
      last: { traceId: rows[last.row]!.id, offset: last.offset },
    },
    trace,
    sent: Buffer.from(sent),
  };
}

interface Span {
  start: number;
  /** Exclusive. */
  end: number;
  /** True when the sender's last byte ends the exchange (EOT), so no answer follows it. */
  closed: boolean;
}

/** The frames as stored, located in the stream; widened to the ENQ before and the EOT after. */
function astmSpan(stream: Buffer, raw: Buffer, storedBy: number): Span | null {
  const frameStarts: number[] = [];
  for (let i = 0; i < raw.length; i++) if (raw[i] === STX) frameStarts.push(i);
  if (frameStarts[0] !== 0) return null;
  const firstFrame = raw.subarray(0, frameStarts[1] ?? raw.length);
  const lastFrame = raw.subarray(frameStarts.at(-1)!);
  if (storedBy < lastFrame.length) return null;
  const lastAt = stream.lastIndexOf(lastFrame, storedBy - lastFrame.length);
  if (lastAt < 0) return null;
  const firstAt = frameStarts.length === 1 ? lastAt : stream.lastIndexOf(firstFrame, lastAt);
  if (firstAt < 0) return null;
  return astmWiden(stream, firstAt, lastAt + lastFrame.length);
}

/** The frames from `first` to `end` (exclusive), widened to the ENQ before and the EOT after. */
function astmWiden(stream: Buffer, first: number, last: number): Span {
  let start = first;
  if (start > 0 && stream[start - 1] === ENQ) start--;
  let end = last;
  while (end < stream.length && (stream[end] === CR || stream[end] === LF)) end++;
  let closed = false;
  if (stream[end] === EOT) {
    end++;
    closed = true;
  }
  return { start, end, closed };
}

/** The payload from `first` to `end` (exclusive) in its MLLP block: the VT before, FS CR after. */
function hl7Widen(stream: Buffer, first: number, last: number): Span {
  const start = first > 0 && stream[first - 1] === VT ? first - 1 : first;
  let end = last;
  if (stream[end] === FS) end++;
  if (stream[end] === CR) end++;
  return { start, end, closed: false };
}

/** The MLLP block holding the payload, start block to the CR after its end block. */
function hl7Span(stream: Buffer, payload: Buffer, storedBy: number): Span | null {
  const block = Buffer.concat([Buffer.of(VT), payload, Buffer.of(FS)]);
  if (storedBy < block.length) return null;
  const at = stream.lastIndexOf(block, storedBy - block.length);
  if (at < 0) return null;
  let end = at + block.length;
  if (stream[end] === CR) end++;
  return { start: at, end, closed: false };
}

/**
 * Extends the end over the other side's answer: its rows up to the sender's next byte, and for
 * HL7 no further than the end of the acknowledgement block.
 */
function withAnswer(
  rows: readonly TraceEntry[],
  last: Position,
  own: Direction,
  protocol: 'astm' | 'hl7',
): Position {
  let end = last;
  for (let index = last.row + 1; index < rows.length; index++) {
    const row = rows[index]!;
    if (row.direction === own) break;
    if (protocol === 'hl7') {
      const fs = row.bytes.indexOf(FS);
      if (fs >= 0) {
        const offset = row.bytes[fs + 1] === CR ? fs + 1 : fs;
        return { row: index, offset };
      }
    }
    end = { row: index, offset: row.bytes.length - 1 };
    if (protocol === 'astm') break; // one ACK or NAK per frame
  }
  return end;
}

/** Rows `first.row`..`last.row`, the first and last cut at the boundaries. */
function cut(rows: readonly TraceEntry[], first: Position, last: Position): TraceEntry[] {
  const out: TraceEntry[] = [];
  for (let index = first.row; index <= last.row; index++) {
    const row = rows[index]!;
    const from = index === first.row ? first.offset : 0;
    const to = index === last.row ? last.offset + 1 : row.bytes.length;
    out.push({ ...row, bytes: Buffer.from(row.bytes.subarray(from, to)) });
  }
  return out;
}
