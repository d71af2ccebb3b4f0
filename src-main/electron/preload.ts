/**
 * The renderer's only door to the main process: `window.gateway`, one function per contract
 * command and one subscription per contract event. It runs sandboxed, so it is bundled into one
 * file and may import nothing but `electron` and the contract.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { channelOf } from '../../src-shared/channels';
import type {
  CommandName,
  CommandRequest,
  CommandResult,
  EventName,
  EventPayload,
  GatewayApi,
} from '../../src-shared/contract';

function command<C extends CommandName>(
  name: C,
): (request: CommandRequest<C>) => Promise<CommandResult<C>> {
  const channel = channelOf(name, 'command');
  return (request) => ipcRenderer.invoke(channel, request) as Promise<CommandResult<C>>;
}

function subscription<E extends EventName>(
  name: E,
): (listener: (payload: EventPayload<E>) => void) => () => void {
  const channel = channelOf(name, 'event');
  return (listener) => {
    // The IPC event object is not handed on: it would give the page a handle on the sender.
    const handler = (_event: IpcRendererEvent, payload: EventPayload<E>) => listener(payload);
    ipcRenderer.on(channel, handler);
    return () => {
      ipcRenderer.removeListener(channel, handler);
    };
  };
}

// Spelled out rather than generated, so that `satisfies` catches a missing, extra or mismatched
// entry when the contract changes.
const api = {
  getAppInfo: command('getAppInfo'),
  listInstruments: command('listInstruments'),
  getInstrument: command('getInstrument'),
  createInstrument: command('createInstrument'),
  updateInstrument: command('updateInstrument'),
  deleteInstrument: command('deleteInstrument'),
  setInstrumentEnabled: command('setInstrumentEnabled'),
  reconnectInstrument: command('reconnectInstrument'),
  disconnectInstrument: command('disconnectInstrument'),
  acknowledgeAlarms: command('acknowledgeAlarms'),
  listHistoryInstruments: command('listHistoryInstruments'),
  testConnection: command('testConnection'),
  listSerialPorts: command('listSerialPorts'),
  previewProfile: command('previewProfile'),
  queryMessages: command('queryMessages'),
  getMessage: command('getMessage'),
  listEvents: command('listEvents'),
  getStats: command('getStats'),
  exportMessages: command('exportMessages'),
  listOrders: command('listOrders'),
  addOrder: command('addOrder'),
  cancelOrder: command('cancelOrder'),
  getOrderHistory: command('getOrderHistory'),
  getPendingOrderCounts: command('getPendingOrderCounts'),
  listDestinations: command('listDestinations'),
  createDestination: command('createDestination'),
  updateDestination: command('updateDestination'),
  deleteDestination: command('deleteDestination'),
  holdDestination: command('holdDestination'),
  releaseDestination: command('releaseDestination'),
  retryFailed: command('retryFailed'),
  resendMessage: command('resendMessage'),
  listOutbox: command('listOutbox'),
  getMessageForwarding: command('getMessageForwarding'),
  listOrderSources: command('listOrderSources'),
  startDemo: command('startDemo'),
  onLinkStatus: subscription('linkStatus'),
  onMessagesStored: subscription('messagesStored'),
  onLogged: subscription('logged'),
  onStatsTick: subscription('statsTick'),
  onInstrumentRemoved: subscription('instrumentRemoved'),
  onDestinationStatus: subscription('destinationStatus'),
} satisfies GatewayApi;

contextBridge.exposeInMainWorld('gateway', api);
