/**
 * `npm run bench -- protocols`: decode throughput of the HL7 and ASTM cores, side by side with
 * the npm HL7 parsers most used (simple-hl7, node-hl7-client) on the same input in the same run.
 */
import { createRequire } from 'node:module';
import { Message as NhcMessage, type HL7Node } from 'node-hl7-client';
import { decodeAstm } from '../src-main/protocols/astm/decode';
import { decodeMessages } from '../src-main/protocols/astm/message';
import { bytesToText } from '../src-main/protocols/astm/records';
import { AstmSession } from '../src-main/protocols/astm/session';
import type { Clock } from '../src-main/protocols/clock';
import { decodeHl7Bytes } from '../src-main/protocols/hl7/charset';
import { parseHl7, parseHl7Full } from '../src-main/protocols/hl7/message';
import { MllpFramer, frameMllp } from '../src-main/protocols/hl7/mllp';
import { extractResults } from '../src-main/protocols/hl7/results';
import { astmBare, astmCorpus, astmWire, oruCorpus } from './fixtures';
import { fmt, measure, type Row, type Suite } from './support';

/** The parts of simple-hl7's (untyped, CommonJS) API used here. */
interface SimpleHl7 {
  Parser: new () => {
    parse(text: string): { header: { fields: unknown[] }; segments: { fields: unknown[] }[] };
  };
}
const simpleHl7 = createRequire(import.meta.url)('simple-hl7') as SimpleHl7;

interface Candidate {
  name: string;
  /** Bytes and messages one call of `run` decodes. */
  bytes: number;
  messages: number;
  run: () => void;
}

/** Written by every candidate so that no result can be optimised away; checked at the end. */
let sink = 0;

const idleClock: Clock = { now: () => 0, schedule: () => () => undefined };

/**
 * Runs per second of every candidate of a group, measured back to back, the order rotated by
 * `round` so that none always runs first (or right after the same neighbour) while the
 * machine's load drifts.
 */
function compare(candidates: Candidate[], round: number, ms: number): [Candidate, number][] {
  const out: [Candidate, number][] = [];
  for (let k = 0; k < candidates.length; k++) {
    const c = candidates[(k + round) % candidates.length]!;
    out.push([c, measure(c.run, ms)]);
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Visits every subcomponent of one node-hl7-client segment, decoding its escapes. */
function walkNhcSegment(segment: HL7Node, visit: (value: string) => void): void {
  segment.forEach((field) =>
    field.forEach((repetition) =>
      repetition.forEach((component) => component.forEach((sub) => visit(sub.toString()))),
    ),
  );
}

/** Builds node-hl7-client's whole tree (it is lazy) and counts its non-empty values. */
function countNhc(message: HL7Node): number {
  let values = 0;
  message.forEach((segment) =>
    walkNhcSegment(segment, (value) => {
      if (value !== '') values++;
    }),
  );
  return values;
}

/**
 * The non-empty values after MSH, in order, as node-hl7-client decodes them (its segments'
 * first child is the name); MSH is left out because it splits MSH-2 as if it were data.
 */
function valuesNhc(text: string): string[] {
  const values: string[] = [];
  new NhcMessage({ text }).forEach((segment, index) => {
    if (index === 0) return;
    walkNhcSegment(segment, (value) => {
      if (value !== '') values.push(value);
    });
  });
  return values;
}

/** The same values from our full tree. */
function valuesOurs(text: string): string[] {
  const values: string[] = [];
  for (const segment of parseHl7Full(text, { hexCharset: 'utf8' }).segments.slice(1)) {
    values.push(segment.name);
    for (const field of segment.fields) {
      for (const repetition of field) {
        for (const component of repetition) for (const sub of component) if (sub) values.push(sub);
      }
    }
  }
  return values;
}

/** Reads of about `size` bytes, as a socket delivers a busy stream. */
function chunksOf(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

export const protocolsSuite: Suite = async ({ quick }) => {
  const hl7Count = quick ? 20 : 200;
  const astmCount = quick ? 20 : 200;
  const rounds = quick ? 1 : 9;
  const ms = quick ? 10 : 250;

  // ── HL7 ───────────────────────────────────────────────────────────────────
  const texts = oruCorpus(hl7Count);
  const hl7Bytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text, 'utf8'), 0);
  const mllpStream = Buffer.concat(texts.map((text) => frameMllp(Buffer.from(text, 'utf8'))));
  const mllpReads = chunksOf(mllpStream, 64 * 1024);
  const segmentsPerMessage = texts[0]!.split('\r').length;

  // The comparison only means something if all three read the same message the same way.
  const oursValues = valuesOurs(texts[0]!);
  const nhcValues = valuesNhc(texts[0]!);
  const simple = new simpleHl7.Parser().parse(texts[0]!);
  if (
    oursValues.join('\0') !== nhcValues.join('\0') ||
    simple.segments.length + 1 !== segmentsPerMessage
  ) {
    throw new Error(
      `parsers disagree on the corpus: ours ${oursValues.length} values, node-hl7-client ` +
        `${nhcValues.length}, simple-hl7 ${simple.segments.length + 1} segments of ${segmentsPerMessage}`,
    );
  }

  const hl7 = (name: string, run: () => void, bytes = hl7Bytes): Candidate => ({
    name,
    bytes,
    messages: hl7Count,
    run,
  });
  const oursFull = hl7('HL7 · ours: parseHl7Full (full tree, escapes decoded)', () => {
    for (const text of texts) sink += parseHl7Full(text, { hexCharset: 'utf8' }).segments.length;
  });
  const oursWire = hl7(
    'HL7 · ours: MLLP framer + charset + parseHl7Full (bytes → full tree)',
    () => {
      const framer = new MllpFramer();
      for (const read of mllpReads) {
        for (const item of framer.push(read)) {
          if (item.kind !== 'message') continue;
          const decoded = decodeHl7Bytes(item.payload);
          sink += parseHl7Full(decoded.text, { hexCharset: 'utf8' }).segments.length;
        }
      }
    },
    mllpStream.length,
  );
  const oursGateway = hl7('HL7 · ours: parseHl7 + MSH + results (what the gateway reads)', () => {
    for (const text of texts) {
      const message = parseHl7(text, { hexCharset: 'utf8' });
      sink += message.msh.controlId.length + extractResults(message).length;
    }
  });
  const simpleParse = hl7('HL7 · simple-hl7 3.3: Parser.parse (eager split, no unescape)', () => {
    const parser = new simpleHl7.Parser();
    for (const text of texts) sink += parser.parse(text).segments.length;
  });
  const nhcWalk = hl7('HL7 · node-hl7-client 3.2: new Message + walk every value', () => {
    for (const text of texts) sink += countNhc(new NhcMessage({ text }));
  });
  const nhcLazy = hl7('HL7 · node-hl7-client 3.2: new Message only (lazy, nothing split)', () => {
    for (const text of texts) sink += new NhcMessage({ text }).length;
  });

  // ── ASTM ──────────────────────────────────────────────────────────────────
  const astmMessages = astmCorpus(astmCount);
  const wire = astmWire(astmMessages);
  const bare = astmBare(astmMessages);
  const framesPerMessage = astmMessages[0]!.length;
  const check = (what: string, got: number) => {
    if (got !== astmCount) throw new Error(`${what}: ${got} messages, expected ${astmCount}`);
  };
  check('decodeAstm (framed)', decodeAstm(wire).messages.length);
  check('decodeAstm (bare)', decodeAstm(bare).messages.length);

  /** A host session fed the whole stream, every message settled as stored at once. */
  const receive = (decode: boolean): number => {
    let messages = 0;
    const session: AstmSession = new AstmSession({
      clock: idleClock,
      role: 'host',
      onEvent: (event) => {
        if (event.type === 'messages') {
          for (const message of event.messages) {
            messages++;
            if (decode) sink += decodeMessages(bytesToText(message.text))[0]!.results.length;
          }
          session.settle(true);
        } else if (event.type === 'error' || event.type === 'incomplete') {
          throw new Error(`the session rejected the benchmark stream: ${JSON.stringify(event)}`);
        }
      },
    });
    session.receive(wire);
    session.close();
    return messages;
  };
  check('AstmSession', receive(false));

  const astm = (name: string, input: Buffer, run: () => void): Candidate => ({
    name,
    bytes: input.length,
    messages: astmCount,
    run,
  });
  const astmCandidates = [
    astm('ASTM · decodeAstm, E1381 session bytes (ENQ, frames, EOT)', wire, () => {
      sink += decodeAstm(wire).messages.length;
    }),
    astm('ASTM · decodeAstm, bare E1394 records', bare, () => {
      sink += decodeAstm(bare).messages.length;
    }),
    astm('ASTM · AstmSession (host): frames checked, messages assembled', wire, () => {
      sink += receive(false);
    }),
    astm('ASTM · AstmSession (host) + decodeMessages (the gateway path)', wire, () => {
      sink += receive(true);
    }),
  ];

  const hl7Candidates = [oursFull, oursWire, oursGateway, simpleParse, nhcWalk, nhcLazy];
  const all = [...hl7Candidates, ...astmCandidates];
  // Messages per second of each candidate in each round.
  const runs = new Map<Candidate, number[]>(all.map((c) => [c, []]));
  for (let round = 0; round < rounds; round++) {
    for (const group of [hl7Candidates, astmCandidates]) {
      for (const [c, perSecond] of compare(group, round, ms)) {
        runs.get(c)!.push(perSecond * c.messages);
      }
    }
  }
  if (!Number.isFinite(sink)) throw new Error('unreachable');

  const rate = (c: Candidate) => median(runs.get(c)!);
  /** Median over rounds of a / b, each taken within one round (neighbours in time). */
  const relative = (a: Candidate, b: Candidate): number => {
    const theirs = runs.get(b)!;
    return median(runs.get(a)!.map((value, round) => value / theirs[round]!));
  };
  const times = (value: number) => `${value.toFixed(2)}×`;
  const spread = (c: Candidate) => {
    const values = runs.get(c)!;
    return (Math.max(...values) - Math.min(...values)) / median(values);
  };
  const fastestOther = rate(simpleParse) >= rate(nhcWalk) ? simpleParse : nhcWalk;
  const rows: Row[] = all.map((c) => ({
    name: c.name,
    'MB/s': fmt((rate(c) / c.messages) * (c.bytes / 1e6), 1),
    'messages/s': fmt(rate(c)),
    'µs/message': fmt(1e6 / rate(c), 1),
    'round spread': rounds > 1 ? `${fmt(spread(c) * 100)} %` : '-',
    'vs ours full': hl7Candidates.includes(c) ? times(relative(c, oursFull)) : '',
  }));

  const goal = relative(oursFull, fastestOther);
  const ratios = [
    `HL7 full parse, ours / fastest other (${fastestOther === simpleParse ? 'simple-hl7' : 'node-hl7-client, full walk'}) = ` +
      `${times(goal)} (goal ≥ 1.5×: ${goal >= 1.5 ? 'met' : 'missed'})`,
    `HL7 full parse, ours / simple-hl7 = ${times(relative(oursFull, simpleParse))}; ` +
      `ours / node-hl7-client full walk = ${times(relative(oursFull, nhcWalk))}; ` +
      `ours / node-hl7-client construction alone (it has split nothing yet) = ` +
      `${times(relative(oursFull, nhcLazy))}`,
    `HL7 bytes → full tree (MLLP framer + charset + parse) / string parse alone = ` +
      `${times(relative(oursWire, oursFull))}`,
    `ASTM live session / decodeAstm of the same bytes = ` +
      `${times(relative(astmCandidates[2]!, astmCandidates[0]!))}; ` +
      `session + record decoding / decodeAstm = ` +
      `${times(relative(astmCandidates[3]!, astmCandidates[0]!))}`,
  ];

  const hl7Size = Math.round(hl7Bytes / hl7Count);
  const astmSize = Math.round(wire.length / astmCount);
  const method =
    `Input, generated with a fixed seed: ${hl7Count} distinct HL7 v2.5.1 ORU^R01 messages ` +
    `(${segmentsPerMessage} segments: MSH, PID, PV1, ORC, OBR, 20 OBX, 4 NTE, SPM; ` +
    `${fmt(hl7Size)} bytes on average, UTF-8 with non-ASCII names and units; repetitions, ` +
    `subcomponents and \\S\\ \\T\\ \\F\\ \\R\\ \\E\\ escapes in PID, OBR, OBX and NTE values), and ` +
    `${astmCount} ASTM E1394 messages (H, P, O, 10 R, L; ${framesPerMessage} E1381 frames, ` +
    `${fmt(astmSize)} bytes per message with ENQ and EOT). All parsers get the same JavaScript ` +
    `strings (MB/s counts their UTF-8 bytes); rows marked "bytes" start from the wire bytes ` +
    `(MLLP stream in 64 KiB reads). What each does: *ours parseHl7Full* splits every field, ` +
    `repetition, component and subcomponent of every segment into arrays and decodes every ` +
    `escape, using the delimiters declared in MSH-2; *simple-hl7* splits every field, ` +
    `repetition, component and subcomponent eagerly into its own objects but decodes no ` +
    `escape and assumes the delimiters |^~\\& whatever MSH-2 says; *node-hl7-client* ` +
    `\`new Message({ text })\` reads the delimiters from MSH and splits the text into segment ` +
    `lines (to check there is one MSH) but builds its node tree only when asked, so its ` +
    `"walk" row visits every segment → field → repetition → component → subcomponent with ` +
    `forEach and calls toString() on each (which decodes escapes): the same work as our full ` +
    `parse (before timing, both are checked to yield the same ${oursValues.length} non-empty values, ` +
    `escapes decoded alike, in the segments after MSH); most of its walk time goes into ` +
    `constructing its node objects (each one an EventEmitter with class fields). The goal ` +
    `compares ours with the faster of simple-hl7 and the node-hl7-client walk; the lazy row ` +
    `is shown for completeness. ASTM: \`decodeAstm\` ` +
    `decodes framed bytes (checksums, frame order, records, normalized results) or bare ` +
    `records; the session rows feed the whole stream to an AstmSession in the host role ` +
    `(checksums, frame numbers, ACK events, message assembly) with a clock that never fires, ` +
    `settling each completed message as stored inside its event. Each row is the median of ` +
    `${rounds} rounds of ${ms} ms per candidate (after a warm-up), the HL7 candidates measured ` +
    `back to back and the ASTM ones likewise, in an order rotated each round; a ratio is the ` +
    `median of the ratios taken within each round; "round spread" is (max − min) / median ` +
    `across rounds: other work on the machine moves single figures more than the ratios.`;

  return { title: 'Protocol decoding throughput', method, rows, ratios };
};
