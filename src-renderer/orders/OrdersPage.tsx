import { useEffect, useId, useState, type FormEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { Order, OrderState } from '../../src-shared/orders';
import { formatTime } from '../format';
import { useAppStore } from '../store';
import { selectInstrumentIds, selectInstrumentNames } from '../store/instruments-slice';
import { ordersApi } from './orders-api';
import './orders.css';

const stateWords: Record<OrderState, string> = {
  pending: 'Pending',
  sent: 'Sent',
  resulted: 'Resulted',
  cancelled: 'Cancelled',
};

/** The worklists: orders per instrument, searchable by sample ID, cancellable, added by hand. */
export function OrdersPage() {
  const ids = useAppStore(useShallow(selectInstrumentIds));
  const names = useAppStore(useShallow(selectInstrumentNames));
  const [instrumentId, setInstrumentId] = useState('');
  const [state, setState] = useState<OrderState | ''>('');
  const [sample, setSample] = useState('');
  const [orders, setOrders] = useState<Order[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const instrumentFilter = useId();
  const stateFilter = useId();
  const sampleFilter = useId();

  /** Bumped to read the list again (after a change, or on Refresh). */
  const [generation, setGeneration] = useState(0);
  const reload = () => setGeneration((n) => n + 1);

  useEffect(() => {
    let live = true;
    void ordersApi
      .list({
        limit: 500,
        ...(instrumentId ? { instrumentId } : {}),
        ...(state ? { state } : {}),
        ...(sample.trim() ? { sampleId: sample.trim() } : {}),
      })
      .then((answer) => {
        if (!live) return;
        if (answer.ok) {
          setOrders(answer.value);
          setProblem(null);
        } else setProblem(`The orders could not be read: ${answer.message}`);
      });
    return () => {
      live = false;
    };
  }, [instrumentId, state, sample, generation]);

  const cancel = async (order: Order) => {
    const answer = await ordersApi.cancel(order.id);
    if (!answer.ok) setProblem(`Order for ${order.sampleId} not cancelled: ${answer.message}`);
    reload();
  };

  return (
    <section className="page" aria-labelledby="orders-title">
      <div className="page-head">
        <h1 id="orders-title">Orders</h1>
        <p className="page-summary">
          What the LIS asked the analyzers to run, and orders added here for samples it did not
          send. Newest first.
        </p>
      </div>

      <div className="toolbar" role="group" aria-label="Filter orders">
        <label htmlFor={instrumentFilter}>Worklist</label>
        <select
          id={instrumentFilter}
          value={instrumentId}
          onChange={(event) => setInstrumentId(event.target.value)}
        >
          <option value="">All instruments</option>
          {ids.map((id) => (
            <option key={id} value={id}>
              {names[id] ?? id}
            </option>
          ))}
        </select>
        <label htmlFor={stateFilter}>State</label>
        <select
          id={stateFilter}
          value={state}
          onChange={(event) => setState(event.target.value as OrderState | '')}
        >
          <option value="">Any</option>
          {Object.entries(stateWords).map(([value, word]) => (
            <option key={value} value={value}>
              {word}
            </option>
          ))}
        </select>
        <label htmlFor={sampleFilter}>Sample ID</label>
        <input
          id={sampleFilter}
          type="search"
          value={sample}
          placeholder="e.g. SID001"
          onChange={(event) => setSample(event.target.value)}
        />
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>

      {problem && (
        <p role="alert" className="field-error">
          {problem}
        </p>
      )}

      <div className="table-wrap">
        <table className="log-table orders-table">
          <caption className="visually-hidden">Orders, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Sample</th>
              <th scope="col">Patient</th>
              <th scope="col">Tests</th>
              <th scope="col">Instrument</th>
              <th scope="col">State</th>
              <th scope="col">Received</th>
              <th scope="col">Sent</th>
              <th scope="col">Resulted</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {orders.map((order) => (
              <tr key={order.id} data-sample={order.sampleId}>
                <td className="mono">{order.sampleId}</td>
                <td>
                  {order.patientId ?? '—'}
                  {order.patientName && <span className="muted"> {order.patientName}</span>}
                </td>
                <td className="mono">
                  {order.tests.map((t) => (
                    <span
                      key={t}
                      className={order.resultedTests.includes(t) ? 'test test-done' : 'test'}
                      title={order.resultedTests.includes(t) ? 'has a result' : 'no result yet'}
                    >
                      {t}
                    </span>
                  ))}
                </td>
                <td>
                  {order.instrumentId ? (names[order.instrumentId] ?? order.instrumentId) : 'any'}
                </td>
                <td className={`order-state order-${order.state}`}>
                  {stateWords[order.state]}
                  {order.state !== 'resulted' && order.resultedTests.length > 0 && (
                    <span className="muted"> (partially resulted)</span>
                  )}
                </td>
                <td>{formatTime(Date.parse(order.receivedAt))}</td>
                <td>{order.sentAt ? formatTime(Date.parse(order.sentAt)) : '—'}</td>
                <td>{order.resultedAt ? formatTime(Date.parse(order.resultedAt)) : '—'}</td>
                <td>
                  {(order.state === 'pending' || order.state === 'sent') && (
                    <button
                      type="button"
                      className="button-danger"
                      aria-label={`Cancel the order for ${order.sampleId}`}
                      onClick={() => void cancel(order)}
                    >
                      Cancel
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {orders.length === 0 && <p className="empty">No orders match these filters.</p>}
      </div>

      <AddOrderForm instrumentIds={ids} names={names} onAdded={reload} />
    </section>
  );
}

function AddOrderForm({
  instrumentIds,
  names,
  onAdded,
}: {
  instrumentIds: string[];
  names: Record<string, string>;
  onAdded: () => void;
}) {
  const [sampleId, setSampleId] = useState('');
  const [tests, setTests] = useState('');
  const [patientId, setPatientId] = useState('');
  const [instrumentId, setInstrumentId] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const prefix = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const codes = tests
      .split(/[\s,;]+/)
      .map((t) => t.trim())
      .filter(Boolean);
    const answer = await ordersApi.add({
      sampleId,
      tests: codes,
      ...(patientId.trim() ? { patientId: patientId.trim() } : {}),
      ...(instrumentId ? { instrumentId } : {}),
    });
    if (!answer.ok) {
      setProblem(`The order was not added: ${answer.message}`);
      return;
    }
    setProblem(null);
    setSampleId('');
    setTests('');
    setPatientId('');
    onAdded();
  };

  return (
    <form
      className="order-form"
      aria-labelledby={`${prefix}-title`}
      onSubmit={(e) => void submit(e)}
    >
      <h2 id={`${prefix}-title`}>Add an order by hand</h2>
      <p className="muted">For a sample the LIS did not send. Tests are LIS codes.</p>
      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${prefix}-sample`}>Sample ID</label>
          <input
            id={`${prefix}-sample`}
            required
            value={sampleId}
            onChange={(e) => setSampleId(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${prefix}-tests`}>Tests</label>
          <input
            id={`${prefix}-tests`}
            required
            placeholder="GLUC, CREAT"
            value={tests}
            onChange={(e) => setTests(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${prefix}-patient`}>Patient ID</label>
          <input
            id={`${prefix}-patient`}
            value={patientId}
            onChange={(e) => setPatientId(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${prefix}-instrument`}>Instrument</label>
          <select
            id={`${prefix}-instrument`}
            value={instrumentId}
            onChange={(e) => setInstrumentId(e.target.value)}
          >
            <option value="">Any instrument that asks</option>
            {instrumentIds.map((id) => (
              <option key={id} value={id}>
                {names[id] ?? id}
              </option>
            ))}
          </select>
        </div>
      </div>
      {problem && (
        <p role="alert" className="field-error">
          {problem}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="button-primary">
          Add order
        </button>
      </div>
    </form>
  );
}
