/**
 * IPC channel names, kept apart from the schemas so the sandboxed preload can use them without
 * bundling zod.
 */
export function channelOf(name: string, kind: 'command' | 'event'): string {
  return `gateway:${kind}:${name}`;
}
