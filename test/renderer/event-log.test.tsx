// @vitest-environment jsdom
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { LogEntryView } from '../../src-shared/contract';
import { EventLog } from '../../src-renderer/events/EventLog';
import { useAppStore } from '../../src-renderer/store';
import { makeStatus } from './fake-api';
import { settle, withTestGateway } from './harness';

const gateway = withTestGateway();
const T = new Date(2025, 2, 12, 9, 0, 0).getTime();

function entry(minute: number, overrides: Partial<LogEntryView> = {}): LogEntryView {
  return {
    id: minute,
    at: T + minute * 60_000,
    instrumentId: 'cobas',
    level: 'info',
    kind: 'link',
    code: null,
    message: `event ${minute}`,
    ...overrides,
  };
}

function rows(): string[] {
  const [, ...bodyRows] = screen.getAllByRole('row');
  return bodyRows.map((row) => within(row).getAllByRole('cell')[3]!.textContent ?? '');
}

async function renderLog() {
  gateway.fake.commands.listInstruments.mockResolvedValue({
    ok: true,
    value: [
      makeStatus({ id: 'cobas', name: 'Cobas' }),
      makeStatus({ id: 'sysmex', name: 'Sysmex' }),
    ],
  });
  await useAppStore.getState().loadInstruments();
  render(<EventLog />);
  await settle();
}

describe('Event log', () => {
  it('shows the first page and live events, newest first, in plain words', async () => {
    gateway.fake.commands.listEvents.mockResolvedValue({
      ok: true,
      value: {
        items: [entry(2), entry(1, { level: 'warn', instrumentId: 'sysmex' })],
        nextCursor: null,
      },
    });
    await renderLog();
    expect(rows()).toEqual(['event 2', 'event 1']);
    const older = screen.getAllByRole('row')[2]!;
    expect(within(older).getByText('Problem')).toBeTruthy();
    expect(within(older).getByText('Sysmex')).toBeTruthy();

    await gateway.startBridge();
    act(() =>
      gateway.fake.emit('logged', {
        entries: [
          entry(3, {
            id: undefined,
            level: 'error',
            code: 'ASTM_BAD_CHECKSUM',
            message: 'frame 3: checksum expected 3A, got 3B',
          }),
        ],
      }),
    );
    expect(rows()[0]).toBe('frame 3: checksum expected 3A, got 3BASTM_BAD_CHECKSUM');
  });

  it('filters by instrument and level, on the server and for live events', async () => {
    await renderLog();
    await gateway.startBridge();
    gateway.fake.commands.listEvents.mockResolvedValue({
      ok: true,
      value: { items: [entry(1, { level: 'error' })], nextCursor: null },
    });

    fireEvent.change(screen.getByLabelText('Level'), { target: { value: 'error' } });
    await settle();
    expect(gateway.fake.commands.listEvents).toHaveBeenLastCalledWith({
      level: 'error',
      limit: 100,
    });
    expect(rows()).toEqual(['event 1']);

    fireEvent.change(screen.getByLabelText('Instrument'), { target: { value: 'cobas' } });
    await settle();
    expect(gateway.fake.commands.listEvents).toHaveBeenLastCalledWith({
      instrumentId: 'cobas',
      level: 'error',
      limit: 100,
    });

    act(() =>
      gateway.fake.emit('logged', {
        entries: [
          entry(5, { level: 'info', message: 'info for cobas' }),
          entry(6, { level: 'error', instrumentId: 'sysmex', message: 'error for sysmex' }),
          entry(7, { level: 'error', message: 'error for cobas' }),
        ],
      }),
    );
    expect(rows()).toEqual(['error for cobas', 'event 1']);
  });

  it('searches the text once typing pauses, on the server and for live events', async () => {
    await renderLog();
    await gateway.startBridge();
    gateway.fake.commands.listEvents.mockResolvedValue({
      ok: true,
      value: {
        items: [entry(1, { code: 'ASTM_BAD_CHECKSUM', message: 'frame 2: checksum' })],
        nextCursor: null,
      },
    });
    const calls = () => gateway.fake.commands.listEvents.mock.calls.length;
    const before = calls();
    const box = screen.getByLabelText('Search');
    for (const text of ['c', 'ch', 'checksum']) fireEvent.change(box, { target: { value: text } });
    expect(calls()).toBe(before);
    await waitFor(() =>
      expect(gateway.fake.commands.listEvents).toHaveBeenLastCalledWith({
        search: 'checksum',
        limit: 100,
      }),
    );
    expect(calls()).toBe(before + 1);
    await settle();
    expect(rows()).toEqual(['frame 2: checksumASTM_BAD_CHECKSUM']);

    act(() =>
      gateway.fake.emit('logged', {
        entries: [
          entry(5, { message: 'link up' }),
          entry(6, { code: 'ASTM_BAD_CHECKSUM', message: 'frame 1: expected 3A, got 3B' }),
          entry(7, { message: 'Checksum failed twice' }),
        ],
      }),
    );
    expect(rows()).toEqual([
      'Checksum failed twice',
      'frame 1: expected 3A, got 3BASTM_BAD_CHECKSUM',
      'frame 2: checksumASTM_BAD_CHECKSUM',
    ]);
  });

  it('loads older events with the cursor', async () => {
    gateway.fake.commands.listEvents.mockResolvedValueOnce({
      ok: true,
      value: { items: [entry(9), entry(8)], nextCursor: 'page-2' },
    });
    await renderLog();
    gateway.fake.commands.listEvents.mockResolvedValueOnce({
      ok: true,
      value: { items: [entry(7), entry(6)], nextCursor: null },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Load older events' }));
    await settle();
    expect(gateway.fake.commands.listEvents).toHaveBeenLastCalledWith({
      cursor: 'page-2',
      limit: 100,
    });
    expect(rows()).toEqual(['event 9', 'event 8', 'event 7', 'event 6']);
    expect(screen.queryByRole('button', { name: 'Load older events' })).toBeNull();
  });

  it('says when nothing matches', async () => {
    await renderLog();
    expect(screen.getByText('No events match these filters.')).toBeTruthy();
  });
});
