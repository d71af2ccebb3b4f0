import {
  commandNames,
  eventNames,
  subscriberName,
  type CommandName,
  type CommandResult,
  type EventName,
  type GatewayApi,
} from '../../src-shared/contract';

/**
 * The contract over a WebSocket. Wire format, both directions JSON:
 * - page → server: `{ "type": "call", "id": 7, "command": "queryMessages", "payload": {...} }`
 * - server → page: `{ "type": "result", "id": 7, "result": { "ok": true, "value": ... } }`
 *   and `{ "type": "event", "name": "linkStatus", "payload": {...} }`.
 * The socket reconnects by itself. A call made while it is down waits for the next attempt; when
 * a socket closes, every call still waiting on it, sent or not, is answered CONNECTION_LOST and
 * forgotten, so the gateway never runs later a command its caller was told had failed.
 */
export function createWebSocketApi(
  url: string,
  onConnection: (connected: boolean) => void = () => undefined,
): GatewayApi {
  let socket: WebSocket | null = null;
  let nextId = 1;
  let retryMs = 250;
  const pending = new Map<number, (result: CommandResult<CommandName>) => void>();
  const outbox: string[] = [];
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();

  const connect = (): void => {
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      retryMs = 250;
      for (const text of outbox.splice(0)) ws.send(text);
      onConnection(true);
    };
    ws.onmessage = (message: MessageEvent<string>) => {
      let data: {
        type?: string;
        id?: number;
        result?: unknown;
        name?: EventName;
        payload?: unknown;
      };
      try {
        data = JSON.parse(message.data) as typeof data;
      } catch {
        return;
      }
      if (data.type === 'result' && typeof data.id === 'number') {
        pending.get(data.id)?.(data.result as CommandResult<CommandName>);
        pending.delete(data.id);
      } else if (data.type === 'event' && data.name) {
        for (const listener of listeners.get(data.name) ?? []) listener(data.payload);
      }
    };
    ws.onclose = () => {
      socket = null;
      onConnection(false);
      // Calls already sent will never be answered on this socket, and those not sent yet are
      // answered now: sending them on the next socket would run them after the caller gave up.
      outbox.length = 0;
      for (const [id, resolve] of pending) {
        resolve({
          ok: false,
          error: { code: 'CONNECTION_LOST', message: 'the connection to the gateway was lost' },
        });
        pending.delete(id);
      }
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5_000);
    };
  };
  connect();

  const call = (command: CommandName, payload: unknown): Promise<CommandResult<CommandName>> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      const text = JSON.stringify({ type: 'call', id, command, payload });
      if (socket?.readyState === WebSocket.OPEN) socket.send(text);
      else outbox.push(text);
    });

  const api: Record<string, unknown> = {};
  for (const command of commandNames) api[command] = (payload: unknown) => call(command, payload);
  for (const event of eventNames) {
    api[subscriberName(event)] = (listener: (payload: unknown) => void) => {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    };
  }
  return api as GatewayApi;
}
