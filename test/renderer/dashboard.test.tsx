// @vitest-environment jsdom
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { Dashboard } from '../../src-renderer/dashboard/Dashboard';
import { useAppStore } from '../../src-renderer/store';
import { makeStatus } from './fake-api';
import { settle, withTestGateway } from './harness';

const gateway = withTestGateway();
const NOW = new Date(2025, 2, 12, 14, 30, 0).getTime();

function card(name: string): HTMLElement {
  return screen.getByRole('article', { name });
}

describe('Dashboard', () => {
  it('shows a card per instrument with the status word of each state', async () => {
    vi.useFakeTimers({ now: NOW });
    gateway.fake.commands.listInstruments.mockResolvedValue({
      ok: true,
      value: [
        makeStatus({ id: 'a', name: 'Cobas', state: 'connected' }),
        makeStatus({ id: 'b', name: 'Sysmex', state: 'listening', mode: 'server' }),
        makeStatus({ id: 'c', name: 'Architect', state: 'connecting' }),
        makeStatus({ id: 'd', name: 'Vitros', state: 'reconnecting', nextRetryAt: NOW + 8_000 }),
        makeStatus({ id: 'e', name: 'Alinity', state: 'error', disconnectedByUser: true }),
        makeStatus({ id: 'f', name: 'Atellica', state: 'disabled', enabled: false }),
        makeStatus({ id: 'g', name: 'Cobas 8000', state: 'error', reason: 'connection refused' }),
      ],
    });
    await gateway.startBridge();
    render(<Dashboard />);

    expect(screen.getAllByRole('article')).toHaveLength(7);
    expect(within(card('Cobas')).getByText('Connected')).toBeTruthy();
    expect(within(card('Sysmex')).getByText('Listening')).toBeTruthy();
    expect(within(card('Architect')).getByText('Connecting')).toBeTruthy();
    expect(within(card('Vitros')).getByText('Reconnecting in 8 s')).toBeTruthy();
    expect(within(card('Alinity')).getByText('Disconnected')).toBeTruthy();
    expect(within(card('Atellica')).getByText('Disabled')).toBeTruthy();
    expect(within(card('Cobas 8000')).getByText('Down')).toBeTruthy();
    expect(within(card('Cobas 8000')).getByText(/connection refused/)).toBeTruthy();
  });

  it('counts down the reconnect delay every second', () => {
    vi.useFakeTimers({ now: NOW });
    useAppStore
      .getState()
      .applyStatuses([
        makeStatus({ id: 'd', name: 'Vitros', state: 'reconnecting', nextRetryAt: NOW + 8_000 }),
      ]);
    render(<Dashboard />);
    expect(within(card('Vitros')).getByText('Reconnecting in 8 s')).toBeTruthy();
    act(() => vi.advanceTimersByTime(1_000));
    expect(within(card('Vitros')).getByText('Reconnecting in 7 s')).toBeTruthy();
    act(() => vi.advanceTimersByTime(3_000));
    expect(within(card('Vitros')).getByText('Reconnecting in 4 s')).toBeTruthy();
  });

  it('shows name, protocol, mode, address, since when, counts and last message', () => {
    vi.useFakeTimers({ now: NOW });
    useAppStore.getState().applyStatuses([
      makeStatus({
        id: 'a',
        name: 'Cobas',
        protocol: 'hl7',
        mode: 'server',
        host: '0.0.0.0',
        port: 2575,
        since: NOW - 3 * 60_000,
        lastMessageAt: NOW - 2 * 60_000,
        counters: { day: '2025-03-12', messagesIn: 42, messagesOut: 40, errors: 2 },
      }),
    ]);
    render(<Dashboard />);
    const cobas = card('Cobas');
    expect(cobas.textContent).toContain('HL7 · server · listens on 0.0.0.0:2575');
    expect(cobas.textContent).toContain('for 3 min');
    expect(cobas.textContent).toContain('14:28:00');
    expect(cobas.textContent).toContain('2 min ago');
    expect(cobas.textContent).toContain('42 in · 40 out · 2 problems');
  });

  it('warns about silence, failing storage and the last error in plain words', () => {
    vi.useFakeTimers({ now: NOW });
    useAppStore.getState().applyStatuses([
      makeStatus({
        id: 'a',
        name: 'Cobas',
        silent: true,
        storageFailing: true,
        lastError: {
          code: 'ASTM_BAD_CHECKSUM',
          message: 'frame 3: checksum expected 3A, got 3B',
          at: NOW - 60_000,
        },
      }),
    ]);
    render(<Dashboard />);
    const cobas = card('Cobas');
    expect(within(cobas).getByText(/no messages for longer than expected/)).toBeTruthy();
    expect(within(cobas).getByText(/messages are refused until the database/)).toBeTruthy();
    expect(within(cobas).getByText(/frame 3: checksum expected 3A, got 3B/)).toBeTruthy();
  });

  it('draws the last hour as a sparkline from the stats', () => {
    useAppStore.getState().applyStatuses([makeStatus({ id: 'a', name: 'Cobas' })]);
    const perMinute = Array.from({ length: 60 }, (_, i) => (i === 59 ? 5 : 1));
    useAppStore.getState().applyStats({
      at: 1,
      instruments: [{ instrumentId: 'a', perMinute, lastHourIn: 64, lastHourOut: 0 }],
    });
    render(<Dashboard />);
    const chart = within(card('Cobas')).getByRole('img');
    expect(chart.getAttribute('aria-label')).toMatch(/64 messages in total, at most 5 a minute/);
  });

  it('calls reconnect, disconnect and enable with the instrument id', async () => {
    useAppStore
      .getState()
      .applyStatuses([
        makeStatus({ id: 'a', name: 'Cobas' }),
        makeStatus({ id: 'f', name: 'Atellica', state: 'disabled', enabled: false }),
      ]);
    render(<Dashboard />);
    const { commands } = gateway.fake;
    commands.setInstrumentEnabled.mockResolvedValue({
      ok: true,
      value: makeStatus({ id: 'f', name: 'Atellica', state: 'connecting' }),
    });

    // A working connection is not cut without asking; "Keep connected" leaves it alone.
    fireEvent.click(within(card('Cobas')).getByRole('button', { name: 'Reconnect' }));
    const ask = within(card('Cobas')).getByRole('alertdialog', { name: 'Reconnect Cobas?' });
    expect(ask.textContent).toContain('a message it is sending now stops half-way');
    fireEvent.click(within(ask).getByRole('button', { name: 'Keep connected' }));
    await settle();
    expect(commands.reconnectInstrument).not.toHaveBeenCalled();
    fireEvent.click(within(card('Cobas')).getByRole('button', { name: 'Reconnect' }));
    fireEvent.click(within(card('Cobas')).getByRole('button', { name: 'Reconnect now' }));
    await settle();
    expect(commands.reconnectInstrument).toHaveBeenCalledWith({ id: 'a' });

    fireEvent.click(within(card('Cobas')).getByRole('button', { name: 'Disconnect' }));
    expect(commands.disconnectInstrument).not.toHaveBeenCalled();
    fireEvent.click(within(card('Cobas')).getByRole('button', { name: 'Disconnect now' }));
    await settle();
    expect(commands.disconnectInstrument).toHaveBeenCalledWith({ id: 'a' });

    expect(within(card('Atellica')).queryByRole('button', { name: 'Reconnect' })).toBeNull();
    fireEvent.click(within(card('Atellica')).getByRole('button', { name: 'Enable' }));
    await settle();
    expect(commands.setInstrumentEnabled).toHaveBeenCalledWith({ id: 'f', enabled: true });
    expect(within(card('Atellica')).getByText('Connecting')).toBeTruthy();
  });

  it('says when a command failed', async () => {
    useAppStore
      .getState()
      .applyStatuses([makeStatus({ id: 'a', name: 'Cobas', state: 'listening', mode: 'server' })]);
    gateway.fake.commands.disconnectInstrument.mockResolvedValue({
      ok: false,
      error: { code: 'BUSY', message: 'the link is shutting down' },
    });
    render(<Dashboard />);
    fireEvent.click(within(card('Cobas')).getByRole('button', { name: 'Disconnect' }));
    await settle();
    expect(within(card('Cobas')).getByRole('alert').textContent).toBe(
      'Disconnect failed: the link is shutting down',
    );
  });

  it('updates a card when a linkStatus event arrives', async () => {
    gateway.fake.commands.listInstruments.mockResolvedValue({
      ok: true,
      value: [makeStatus({ id: 'a', name: 'Cobas', state: 'connected' })],
    });
    await gateway.startBridge();
    render(<Dashboard />);
    expect(within(card('Cobas')).getByText('Connected')).toBeTruthy();

    act(() =>
      gateway.fake.emit('linkStatus', {
        statuses: [
          makeStatus({
            id: 'a',
            name: 'Cobas',
            state: 'reconnecting',
            nextRetryAt: Date.now() + 4_500,
            reason: 'the analyzer closed the connection',
          }),
        ],
      }),
    );
    expect(within(card('Cobas')).getByText('Reconnecting in 5 s')).toBeTruthy();
    expect(within(card('Cobas')).getByText(/the analyzer closed the connection/)).toBeTruthy();

    act(() => gateway.fake.emit('instrumentRemoved', { id: 'a' }));
    expect(screen.queryByRole('article', { name: 'Cobas' })).toBeNull();
  });
});

describe('first run', () => {
  it('explains what to do and starts the demo instruments', async () => {
    await gateway.startBridge();
    render(<Dashboard />);
    expect(screen.getByRole('heading', { name: 'No instruments yet' })).toBeTruthy();
    expect(screen.getByText(/sits between your analyzers and the laboratory/)).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Add an instrument' })).toBeTruthy();

    const { commands } = gateway.fake;
    commands.startDemo.mockResolvedValue({
      ok: true,
      value: { instrumentIds: ['demo-astm', 'demo-hl7'] },
    });
    commands.listInstruments.mockResolvedValue({
      ok: true,
      value: [
        makeStatus({
          id: 'demo-astm',
          name: 'Demo ASTM analyzer',
          mode: 'server',
          state: 'listening',
        }),
        makeStatus({
          id: 'demo-hl7',
          name: 'Demo HL7 analyzer',
          protocol: 'hl7',
          state: 'connecting',
        }),
      ],
    });
    fireEvent.click(screen.getByRole('button', { name: 'Start demo instruments' }));
    await settle();
    expect(commands.startDemo).toHaveBeenCalledWith({});
    expect(card('Demo ASTM analyzer')).toBeTruthy();
    expect(within(card('Demo HL7 analyzer')).getByText('Connecting')).toBeTruthy();
    expect(screen.queryByRole('heading', { name: 'No instruments yet' })).toBeNull();
  });

  it('says why the demo did not start', async () => {
    await gateway.startBridge();
    gateway.fake.commands.startDemo.mockResolvedValue({
      ok: false,
      error: { code: 'PORT_IN_USE', message: 'port 15000 is already in use' },
    });
    render(<Dashboard />);
    fireEvent.click(screen.getByRole('button', { name: 'Start demo instruments' }));
    await settle();
    expect(screen.getByRole('alert').textContent).toContain('port 15000 is already in use');
  });

  it('opens the editor for a new instrument', async () => {
    await gateway.startBridge();
    render(<Dashboard />);
    fireEvent.click(screen.getByRole('button', { name: 'Add an instrument' }));
    expect(useAppStore.getState().ui).toMatchObject({
      page: 'instruments',
      editor: { kind: 'new' },
    });
  });
});

describe('Dashboard while the gateway cannot be reached', () => {
  it('marks every status unknown and stops the clocks until the connection is back', () => {
    vi.useFakeTimers({ now: NOW });
    useAppStore.getState().applyStatuses([
      makeStatus({
        id: 'a',
        name: 'Cobas',
        state: 'connected',
        lastMessageAt: NOW - 6_000,
        counters: { day: '2025-03-12', messagesIn: 3, messagesOut: 3, errors: 0 },
      }),
    ]);
    render(<Dashboard />);
    expect(within(card('Cobas')).getByText('Connected')).toBeTruthy();
    expect(card('Cobas').textContent).toContain('(6 s ago)');

    act(() => useAppStore.getState().setConnected(false));
    act(() => vi.advanceTimersByTime(30_000));
    const cobas = card('Cobas');
    expect(within(cobas).queryByText('Connected')).toBeNull();
    expect(within(cobas).getByText('Unknown')).toBeTruthy();
    expect(cobas.className).toContain('card-stale');
    expect(cobas.textContent).toContain('last known: connected');
    expect(cobas.textContent).toContain('(6 s ago)');
    expect(screen.getByText(/status unknown while the gateway cannot be reached/u)).toBeTruthy();

    act(() => useAppStore.getState().setConnected(true));
    expect(within(card('Cobas')).getByText('Connected')).toBeTruthy();
    expect(card('Cobas').textContent).toContain('(36 s ago)');
  });
});

describe('Dashboard alarms', () => {
  it('puts instruments that need attention first, says so, and acknowledges an alarm', async () => {
    vi.useFakeTimers({ now: NOW });
    useAppStore
      .getState()
      .applyStatuses([
        makeStatus({ id: 'a', name: 'Alinity', state: 'connected' }),
        makeStatus({ id: 'b', name: 'Bactec', state: 'connected', silent: true }),
        makeStatus({ id: 'z', name: 'Zeus', state: 'error', reason: 'port 5000 is in use' }),
      ]);
    render(<Dashboard />);
    expect(
      screen
        .getAllByRole('article')
        .map((a) => a.getAttribute('aria-labelledby') && a.querySelector('h2')?.textContent),
    ).toEqual(['Zeus', 'Bactec', 'Alinity']);
    expect(screen.getByText(/2 need attention/u)).toBeTruthy();

    vi.useRealTimers();
    gateway.fake.commands.acknowledgeAlarms.mockResolvedValue({
      ok: true,
      value: makeStatus({ id: 'b', name: 'Bactec', state: 'connected' }),
    });
    fireEvent.click(within(card('Bactec')).getByRole('button', { name: 'Acknowledge' }));
    await settle();
    expect(gateway.fake.commands.acknowledgeAlarms).toHaveBeenCalledWith({ id: 'b' });
    expect(within(card('Bactec')).queryByText(/Silent/u)).toBeNull();
    expect(screen.getByText(/1 needs attention/u)).toBeTruthy();
  });
});

describe('Dashboard retry countdowns', () => {
  it('shows one countdown, the live one, never the delay the reason was written with', () => {
    vi.useFakeTimers({ now: NOW });
    useAppStore.getState().applyStatuses([
      makeStatus({
        id: 'v',
        name: 'Vitros',
        state: 'reconnecting',
        nextRetryAt: NOW + 3_200,
        reason: 'the connection to 10.0.0.5:5000 ended: reset; trying again in 3.2 s',
      }),
      makeStatus({
        id: 'p',
        name: 'Port',
        state: 'error',
        nextRetryAt: NOW + 8_000,
        reason: 'cannot listen: port 5000 is already in use; trying again in 8 s',
      }),
    ]);
    render(<Dashboard />);
    act(() => vi.advanceTimersByTime(2_000));
    const vitros = card('Vitros').textContent ?? '';
    expect(vitros).toContain('Reconnecting in 2 s');
    expect(vitros).not.toContain('3.2 s');
    expect(vitros).not.toContain('trying again');
    expect(card('Port').textContent).toContain('already in use; trying again in 6 s');
  });
});

describe('Dashboard words', () => {
  it('does not say a stopped server listens, and writes counts with thousands separators', () => {
    vi.useFakeTimers({ now: NOW });
    useAppStore.getState().applyStatuses([
      makeStatus({
        id: 'd',
        name: 'Off',
        mode: 'server',
        state: 'disabled',
        enabled: false,
        host: '0.0.0.0',
        port: 5000,
      }),
      makeStatus({
        id: 'u',
        name: 'Stopped',
        mode: 'server',
        state: 'error',
        disconnectedByUser: true,
        host: '0.0.0.0',
        port: 5001,
        counters: { day: '2025-03-12', messagesIn: 3005, messagesOut: 3487, errors: 0 },
      }),
    ]);
    render(<Dashboard />);
    expect(card('Off').textContent).toContain('set to listen on 0.0.0.0:5000');
    expect(card('Stopped').textContent).toContain('set to listen on 0.0.0.0:5001');
    expect(card('Stopped').textContent).toContain('3,005 in · 3,487 out');
    expect(screen.queryByText(/listens on/u)).toBeNull();
  });
});
