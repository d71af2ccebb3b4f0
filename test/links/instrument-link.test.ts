import { describe, expect, it } from 'vitest';
import { createInstrumentLink } from '../../src-main/links';
import { instrumentConfigSchema } from '../../src-shared/config';
import { FakeClock } from '../support/fake-clock';
import { EventLog, lineHandlers, portIsFree, RawServer, within } from './helpers';

describe('createInstrumentLink', () => {
  it('builds a server link for mode "server" from the validated configuration', async () => {
    const probe = await RawServer.listen();
    await probe.close();
    const config = instrumentConfigSchema.parse({
      id: 'cobas',
      protocol: 'astm',
      mode: 'server',
      port: probe.port,
    });
    const log = new EventLog();
    const link = createInstrumentLink(config, {
      handlerFactory: lineHandlers().factory,
      onEvent: log.push,
      clock: new FakeClock(),
    });
    expect(link.id).toBe('cobas');
    link.start();
    const listening = await log.nextStatus('listening');
    expect(listening.reason).toBe(`listening on 127.0.0.1:${probe.port}, waiting for the analyzer`);
    await within(link.close(), 'close()');
    expect(await portIsFree(probe.port)).toBe(true);
  });

  it('builds a client link for mode "client" that connects to the configured address', async () => {
    const analyzer = await RawServer.listen();
    const config = instrumentConfigSchema.parse({
      id: 'sysmex',
      protocol: 'hl7',
      mode: 'client',
      port: analyzer.port,
      reconnect: { initialDelayMs: 500 },
    });
    const log = new EventLog();
    const link = createInstrumentLink(config, {
      handlerFactory: lineHandlers().factory,
      onEvent: log.push,
      clock: new FakeClock(),
    });
    link.start();
    await analyzer.nextSocket();
    expect((await log.nextStatus('connected')).peers).toEqual([`127.0.0.1:${analyzer.port}`]);
    await within(link.close(), 'close()');
    await analyzer.close();
  });
});
