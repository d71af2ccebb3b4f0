/**
 * `node --import tsx bench/servers/pingpong.ts none|each [FILE]`: bench/pingpong.ts's MLLP
 * ping-pong server in a process of its own, so that it is measured like the other servers.
 * Prints `listening PORT` once it accepts connections.
 */
import { mllpPingPong, type Durability } from '../pingpong';
import { PING_PONG_ACK } from './ack';

const [kind, file] = process.argv.slice(2);
const durability: Durability = kind === 'each' && file ? { kind: 'each', file } : { kind: 'none' };
const server = await mllpPingPong(PING_PONG_ACK, durability);
process.stdout.write(`listening ${server.port}\n`);
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
