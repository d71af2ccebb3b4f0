import { frameMllp } from '../../src-main/protocols/hl7/mllp';

/** An answer of the size and shape of the gateway's commit ACK (MSH-15 AL asks for one). */
export const PING_PONG_ACK = frameMllp(
  Buffer.from(
    'MSH|^~\\&|LIS|LAB|LABGW-SIM|BENCH|20260115093000||ACK^R01^ACK|LGMKZ3F0K1000001|P|2.5.1|||NE|NE||UNICODE UTF-8\r' +
      'MSA|CA|AA00000001\r',
    'latin1',
  ),
);
