// @vitest-environment jsdom
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { notifyGatewayConnection } from '../../src-renderer/api';
import { App } from '../../src-renderer/App';
import { useAppStore } from '../../src-renderer/store';
import { makeConfig, makeStatus } from './fake-api';
import { settle, withTestGateway } from './harness';

const gateway = withTestGateway();

describe('App', () => {
  it('has a top bar with the product name and a labelled navigation', async () => {
    await gateway.startBridge();
    render(<App />);
    const banner = screen.getByRole('banner');
    expect(within(banner).getByText('Lab Gateway')).toBeTruthy();
    const nav = screen.getByRole('navigation', { name: 'Main' });
    const links = within(nav).getAllByRole('link');
    expect(links.map((link) => link.textContent)).toEqual([
      'Dashboard',
      'History',
      'Orders',
      'Event log',
      'Instruments',
    ]);
    expect(within(nav).getByRole('link', { name: 'Dashboard' }).getAttribute('aria-current')).toBe(
      'page',
    );
    expect(screen.getByRole('heading', { level: 1, name: 'Dashboard' })).toBeTruthy();
  });

  it('moves between pages', async () => {
    await gateway.startBridge();
    render(<App />);
    const nav = screen.getByRole('navigation', { name: 'Main' });

    fireEvent.click(within(nav).getByRole('link', { name: 'Event log' }));
    expect(screen.getByRole('heading', { level: 1, name: 'Event log' })).toBeTruthy();
    expect(within(nav).getByRole('link', { name: 'Event log' }).getAttribute('aria-current')).toBe(
      'page',
    );

    fireEvent.click(within(nav).getByRole('link', { name: 'History' }));
    await settle();
    expect(screen.getByRole('region', { name: 'Message history' })).toBeTruthy();

    fireEvent.click(within(nav).getByRole('link', { name: 'Instruments' }));
    expect(screen.getByRole('heading', { level: 1, name: 'Instruments' })).toBeTruthy();
  });

  it('opens an instrument’s settings from its card', async () => {
    gateway.fake.commands.listInstruments.mockResolvedValue({
      ok: true,
      value: [makeStatus({ id: 'cobas', name: 'Cobas' })],
    });
    gateway.fake.commands.getInstrument.mockResolvedValue({
      ok: true,
      value: { config: makeConfig(), status: makeStatus({ id: 'cobas', name: 'Cobas' }) },
    });
    await gateway.startBridge();
    render(<App />);
    const card = screen.getByRole('article', { name: 'Cobas' });
    fireEvent.click(within(card).getByRole('button', { name: 'Settings' }));
    await settle();
    expect(useAppStore.getState().ui.page).toBe('instruments');
    expect(screen.getByRole('heading', { name: 'Edit Cobas' })).toBeTruthy();
    expect((screen.getByLabelText('Host') as HTMLInputElement).value).toBe('10.0.0.5');
  });
});

describe('a lost connection to the gateway', () => {
  it('is announced at the top of every page until it is back', async () => {
    await gateway.startBridge();
    render(<App />);
    expect(screen.queryByRole('alert')).toBeNull();
    act(() => notifyGatewayConnection(false));
    expect(screen.getByRole('alert').textContent).toContain('connection to the gateway was lost');
    act(() => notifyGatewayConnection(true));
    expect(screen.queryByRole('alert')).toBeNull();
  });
});
