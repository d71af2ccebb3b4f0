// @vitest-environment jsdom
import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { InstrumentCard } from '../../src-renderer/dashboard/InstrumentCard';
import { InstrumentsPage } from '../../src-renderer/instruments/InstrumentsPage';
import { useAppStore } from '../../src-renderer/store';
import { makeConfig, makeStatus } from './fake-api';
import { settle, withTestGateway } from './harness';

const gateway = withTestGateway();

async function openInstrument(managedBy: 'file' | 'app') {
  const status = makeStatus({ id: 'cobas', name: 'Cobas', managedBy });
  useAppStore.getState().applyStatuses([status]);
  useAppStore.setState((state) => ({
    ui: {
      ...state.ui,
      appInfo: {
        version: '0.1.0',
        runtime: 'browser',
        dbFile: '/data/gateway.db',
        configFile: '/etc/lab-gateway/gateway.json',
        demoAvailable: false,
      },
    },
  }));
  gateway.fake.commands.getInstrument.mockResolvedValue({
    ok: true,
    value: { config: makeConfig({ id: 'cobas', name: 'Cobas' }), status },
  });
  useAppStore.getState().openEditor({ kind: 'edit', id: 'cobas' });
  render(<InstrumentsPage />);
  await settle();
}

describe('instruments set up in the configuration file', () => {
  it('are shown read-only, saying which file to change', async () => {
    await openInstrument('file');
    expect(screen.getByRole('note').textContent).toContain(
      'These settings come from the configuration file /etc/lab-gateway/gateway.json',
    );
    expect(screen.queryByRole('button', { name: 'Save changes' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Remove' })).toBeNull();
    expect(screen.queryByLabelText('Port')).toBeNull();
    const list = screen.getByRole('navigation', { name: 'Instruments' });
    expect(within(list).getByRole('button').textContent).toContain('from the configuration file');
  });

  it('while instruments added in the app stay editable', async () => {
    await openInstrument('app');
    expect(screen.getByRole('button', { name: 'Save changes' })).toBeTruthy();
    expect(screen.queryByRole('note')).toBeNull();
  });

  it('offer no Enable button on the dashboard when the file disables them', () => {
    const fromFile = makeStatus({ id: 'a', managedBy: 'file', enabled: false, state: 'disabled' });
    const fromApp = makeStatus({ id: 'b', managedBy: 'app', enabled: false, state: 'disabled' });
    useAppStore.getState().applyStatuses([fromFile, fromApp]);
    const { unmount } = render(<InstrumentCard id="a" />);
    expect(screen.queryByRole('button', { name: 'Enable' })).toBeNull();
    unmount();
    render(<InstrumentCard id="b" />);
    expect(screen.getByRole('button', { name: 'Enable' })).toBeTruthy();
  });
});
