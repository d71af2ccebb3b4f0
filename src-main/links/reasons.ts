import type { LinkCloseCode, LinkCloseReason } from './types';

export function closeReason(code: LinkCloseCode, message: string): LinkCloseReason {
  return { code, message };
}

export const PEER_CLOSED = closeReason('LINK_PEER_CLOSED', 'the analyzer closed the connection');

export const DISCONNECTED_BY_USER = closeReason(
  'LINK_DISCONNECTED_BY_USER',
  'disconnected by the user; press Reconnect to connect again',
);

export const RECONNECT_BY_USER = closeReason(
  'LINK_RECONNECT_BY_USER',
  'reconnect requested by the user',
);

export const SHUTDOWN = closeReason('LINK_SHUTDOWN', 'the gateway stopped this link');
