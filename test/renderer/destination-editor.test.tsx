// @vitest-environment jsdom
import { fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { DestinationCards } from '../../src-renderer/destinations/DestinationCard';
import {
  candidateConfig,
  placeProblems,
  toDestinationValues,
} from '../../src-renderer/destinations/destination-form';
import { useAppStore } from '../../src-renderer/store';
import type { DestinationStatusView } from '../../src-shared/outbox';
import { descriptionOf, settle, withTestGateway } from './harness';

const gateway = withTestGateway();

function makeDestination(overrides: Partial<DestinationStatusView> = {}): DestinationStatusView {
  return {
    id: 'lis',
    name: 'Main LIS',
    type: 'hl7',
    source: 'app',
    config: {
      id: 'lis',
      name: 'Main LIS',
      type: 'hl7',
      enabled: true,
      host: 'lis.lab',
      port: 2575,
      ackTimeoutMs: 30000,
      window: 1,
      passthrough: false,
      connectTimeoutMs: 10000,
      keepAliveMs: 30000,
      encoding: 'utf8',
      alarmAfterMs: 600000,
      retry: { initialDelayMs: 1000, maxDelayMs: 300000, factor: 2, jitter: 0.2 },
      reconnect: { initialDelayMs: 1000, maxDelayMs: 60000, factor: 2, jitter: 0.2 },
    },
    state: 'idle',
    reason: 'Every message delivered',
    nextRetryAt: null,
    held: false,
    pending: 0,
    heldEntries: 0,
    failed: 0,
    deliveredToday: 3,
    oldestWaitingAt: null,
    lastError: null,
    alarm: false,
    ...overrides,
  };
}

function type(label: string, value: string) {
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

function show(destinations: DestinationStatusView[]) {
  useAppStore.getState().applyDestinations(destinations);
  render(<DestinationCards />);
}

function editorForm() {
  return screen.getByRole('form');
}

describe('the destination form values', () => {
  it('keep settings the form does not show and name problems by field', () => {
    const config = makeDestination().config!;
    const values = toDestinationValues(config);
    expect(values.host).toBe('lis.lab');
    expect(candidateConfig({ ...values, port: '2600' }, config)).toEqual({
      ...config,
      port: 2600,
    });
    expect(
      placeProblems([
        { field: 'config.port', message: 'must be between 1 and 65535' },
        { field: 'headersFromEnv.Authorization', message: 'must be the name of a variable' },
        { field: '(top level)', message: 'odd' },
      ]),
    ).toEqual({
      errors: {
        port: 'must be between 1 and 65535',
        headersFromEnv: 'Authorization: must be the name of a variable',
      },
      general: ['(top level): odd'],
    });
  });
});

describe('the destination editor', () => {
  it('is opened by "Add destination" even when there is none yet', () => {
    show([]);
    fireEvent.click(screen.getByRole('button', { name: 'Add destination' }));
    expect(screen.getByRole('heading', { name: 'Add a destination' })).toBeTruthy();
  });

  it('shows the schema’s problems next to the fields and sends nothing', async () => {
    show([]);
    fireEvent.click(screen.getByRole('button', { name: 'Add destination' }));
    type('ID', 'lis 2');
    type('Port', '70000');
    fireEvent.click(within(editorForm()).getByRole('button', { name: 'Add destination' }));
    await settle();
    expect(descriptionOf(screen.getByLabelText('Port'))).toContain('must be between 1 and 65535');
    expect(descriptionOf(screen.getByLabelText('LIS host'))).toContain('must not be empty');
    expect(screen.getByLabelText('Port').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByLabelText('ID').getAttribute('aria-invalid')).toBe('true');
    expect(gateway.fake.commands.createDestination).not.toHaveBeenCalled();
  });

  it('creates an HTTP destination with header names mapped to environment variable names', async () => {
    const created = makeDestination({ id: 'fhir', name: 'FHIR LIS', type: 'http' });
    gateway.fake.commands.createDestination.mockResolvedValue({ ok: true, value: created });
    show([]);
    fireEvent.click(screen.getByRole('button', { name: 'Add destination' }));
    type('Type', 'http');
    type('ID', 'fhir');
    type('Name', 'FHIR LIS');
    type('URL', 'https://lis.lab/fhir');
    type('Format', 'fhir');
    type('CA file', '/etc/lab/ca.pem');
    type('Timeout (ms)', '5000');
    fireEvent.click(screen.getByRole('button', { name: 'Add a header' }));
    type('Header 1', 'Authorization');
    type('Environment variable 1', 'LIS_AUTH');
    fireEvent.click(within(editorForm()).getByRole('button', { name: 'Add destination' }));
    await settle();
    expect(gateway.fake.commands.createDestination).toHaveBeenCalledWith({
      config: {
        type: 'http',
        id: 'fhir',
        name: 'FHIR LIS',
        enabled: true,
        url: 'https://lis.lab/fhir',
        format: 'fhir',
        caFile: '/etc/lab/ca.pem',
        headersFromEnv: { Authorization: 'LIS_AUTH' },
        timeoutMs: 5000,
      },
    });
    expect(gateway.fake.commands.updateDestination).not.toHaveBeenCalled();
  });

  it('places the gateway’s own field problems next to the field', async () => {
    gateway.fake.commands.createDestination.mockResolvedValue({
      ok: false,
      error: {
        code: 'DUPLICATE_ID',
        message: 'a destination with the id "lis" already exists',
        fields: [{ field: 'id', message: '"lis" is already used' }],
      },
    });
    show([]);
    fireEvent.click(screen.getByRole('button', { name: 'Add destination' }));
    type('Type', 'file');
    type('ID', 'lis');
    type('Folder', '/srv/out');
    fireEvent.click(within(editorForm()).getByRole('button', { name: 'Add destination' }));
    await settle();
    expect(gateway.fake.commands.createDestination).toHaveBeenCalledWith({
      config: { type: 'file', id: 'lis', enabled: true, directory: '/srv/out', format: 'hl7' },
    });
    expect(descriptionOf(screen.getByLabelText('ID'))).toContain('"lis" is already used');
  });

  it('updates an existing destination from its card, keeping settings it does not show', async () => {
    const status = makeDestination();
    gateway.fake.commands.updateDestination.mockResolvedValue({ ok: true, value: status });
    gateway.fake.commands.listDestinations.mockResolvedValue({ ok: true, value: [status] });
    show([status]);
    fireEvent.click(screen.getByRole('button', { name: 'Edit' }));
    expect((screen.getByLabelText('LIS host') as HTMLInputElement).value).toBe('lis.lab');
    type('Port', '2600');
    type('ACK timeout (ms)', '10000');
    type('Messages in flight', '4');
    fireEvent.click(screen.getByLabelText(/Passthrough/));
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    await settle();
    expect(gateway.fake.commands.updateDestination).toHaveBeenCalledWith({
      config: {
        ...status.config,
        port: 2600,
        ackTimeoutMs: 10000,
        window: 4,
        passthrough: true,
      },
    });
    expect(gateway.fake.commands.createDestination).not.toHaveBeenCalled();
    expect(screen.getByRole('status').textContent).toContain('Saved');
  });

  it('removes a destination only after asking', async () => {
    show([makeDestination()]);
    fireEvent.click(screen.getByRole('button', { name: 'Edit' }));
    fireEvent.click(screen.getByRole('button', { name: 'Remove' }));
    const dialog = screen.getByRole('alertdialog');
    expect(gateway.fake.commands.deleteDestination).not.toHaveBeenCalled();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(gateway.fake.commands.deleteDestination).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole('button', { name: 'Remove' }));
    fireEvent.click(screen.getByRole('button', { name: 'Remove destination' }));
    await settle();
    expect(gateway.fake.commands.deleteDestination).toHaveBeenCalledWith({ id: 'lis' });
    expect(screen.queryByRole('form')).toBeNull();
  });

  it('shows a destination from the configuration file read-only, like such instruments', () => {
    show([makeDestination({ source: 'file' })]);
    fireEvent.click(screen.getByRole('button', { name: 'Settings' }));
    expect(screen.getByRole('note').textContent).toContain('come from');
    expect(screen.queryByRole('button', { name: 'Save changes' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Remove' })).toBeNull();
    expect(screen.queryByLabelText('Port')).toBeNull();
  });
});
