import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad usage or bad configuration: exit code 2, message on stderr. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A failure at run time: exit code 1. */
export class RunError extends Error {
  override name = 'RunError';
}

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

export type CommandFn = (argv: string[], io: Io) => Promise<number>;

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs with errors turned into UsageError in plain words. */
export function parseCommandArgs<O extends Options>(command: string, argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${command}: ${message.replace(/\. To specify.*$/s, '')}`);
  }
}

export function requireInt(
  command: string,
  flag: string,
  raw: string | undefined,
  fallback: number,
  min = 0,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new UsageError(`${command}: --${flag} must be a whole number of at least ${min}`);
  }
  return value;
}

/** "HOST:PORT" or "PORT" → { host, port }. */
export function parseHostPort(
  command: string,
  flag: string,
  raw: string,
  defaultHost = '127.0.0.1',
): { host: string; port: number } {
  const at = raw.lastIndexOf(':');
  const host = at >= 0 ? raw.slice(0, at).replace(/^\[(.*)\]$/, '$1') : defaultHost;
  const portText = at >= 0 ? raw.slice(at + 1) : raw;
  const port = Number(portText);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(
      `${command}: --${flag} must look like HOST:PORT with a port between 1 and 65535 (got "${raw}")`,
    );
  }
  return { host, port };
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks);
}

export function writeLine(stream: NodeJS.WritableStream, value: unknown): void {
  stream.write(`${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
}
