import type { GatewayEvent } from '../gateway/events';

export type LogFormat = 'text' | 'json';

function clockTime(at: number): string {
  const d = new Date(at);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * Turns gateway events into log lines: plain sentences for people, one JSON object per line for
 * machines. Status lines appear when the state changes, not on every counter update.
 */
export function createEventLogger(format: LogFormat, write: (line: string) => void) {
  const lastState = new Map<string, string>();
  return (event: GatewayEvent): void => {
    let record: Record<string, unknown> | null = null;
    let text: string | null = null;
    switch (event.type) {
      case 'status': {
        const s = event.status;
        const key = `${s.state}|${s.reason}`;
        if (lastState.get(s.id) === key) return;
        lastState.set(s.id, key);
        record = {
          at: s.since,
          instrumentId: s.id,
          kind: 'status',
          state: s.state,
          reason: s.reason,
        };
        text = `[${s.id}] ${s.state}: ${s.reason}`;
        break;
      }
      case 'messageStored': {
        const m = event.message;
        if (m.duplicate) return;
        const sample = m.sampleIds.length > 0 ? `sample ${m.sampleIds.join(', ')}` : 'no sample ID';
        record = { at: m.receivedAt, kind: 'message', ...m };
        text = `[${m.instrumentId}] stored ${m.direction === 'in' ? 'incoming' : 'outgoing'} ${m.protocol.toUpperCase()} message #${m.id}: ${sample}, ${m.resultCount} result${m.resultCount === 1 ? '' : 's'}${m.status === 'stored' || m.status === 'sent' ? '' : ` (${m.status})`}`;
        break;
      }
      case 'log': {
        const e = event.entry;
        record = { ...e };
        const where = e.instrumentId ? `[${e.instrumentId}] ` : '';
        const level = e.level === 'info' ? '' : `${e.level.toUpperCase()} `;
        text = `${where}${level}${e.code ? `${e.code}: ` : ''}${e.message}`;
        break;
      }
      case 'instrumentRemoved':
        record = { kind: 'removed', instrumentId: event.id };
        text = `[${event.id}] removed`;
        break;
    }
    if (format === 'json') write(JSON.stringify(record));
    else write(`${clockTime(Date.now())} ${text}`);
  };
}
