import { execFile } from 'node:child_process';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SerialSettings } from '../../src-shared/config';
import type { SerialPortInfo } from '../../src-shared/serial';
import type { SerialPortHandle, SerialPorts } from './serial-stream';

/** The part of `serialport` this module uses; loaded on first use (a native module). */
interface SerialPortModule {
  SerialPort: {
    new (options: Record<string, unknown>): SerialPortHandle & {
      open(done: (error: Error | null) => void): void;
      set(flags: { dtr?: boolean; rts?: boolean }, done: (error: Error | null) => void): void;
    };
    list(): Promise<ListedPort[]>;
  };
}

interface ListedPort {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
}

let loaded: Promise<SerialPortModule> | null = null;

/**
 * `serialport` is loaded when a serial link first opens or the ports are listed, so an
 * installation without a working native binding still runs its TCP links, and says why serial
 * does not work.
 */
function serialport(): Promise<SerialPortModule> {
  loaded ??= (loadSerialport() as Promise<SerialPortModule>).catch((error: unknown) => {
    loaded = null;
    throw Object.assign(
      new Error(
        `serial ports are not available: the serialport module could not be loaded (${error instanceof Error ? error.message : String(error)})`,
      ),
      { code: 'SERIAL_UNAVAILABLE' },
    );
  });
  return loaded;
}

/**
 * The desktop app's main process is one CommonJS bundle: under Electron `require` finds the
 * package in node_modules (app.asar.unpacked once installed), as it does better-sqlite3. Under
 * Node (the command line, tests) the package is imported.
 */
function loadSerialport(): Promise<unknown> {
  if (process.versions.electron) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
    return Promise.resolve().then(() => require('serialport') as unknown);
  }
  return import('serialport');
}

/** The machine's ports through `serialport`. */
export const systemSerialPorts: SerialPorts = {
  open: openSerialPort,
  identify: identifyPort,
};

async function openSerialPort(settings: SerialSettings): Promise<SerialPortHandle> {
  const { SerialPort } = await serialport();
  const port = new SerialPort({
    path: settings.path,
    baudRate: settings.baudRate,
    dataBits: settings.dataBits,
    parity: settings.parity,
    stopBits: settings.stopBits,
    rtscts: settings.flowControl === 'rtscts',
    xon: settings.flowControl === 'xonxoff',
    xoff: settings.flowControl === 'xonxoff',
    // Another program (or another link) holding the port is refused, not shared.
    lock: true,
    autoOpen: false,
  });
  return new Promise((resolve, reject) => {
    port.open((error) => {
      if (error) {
        reject(error);
        return;
      }
      // Many analyzers send only while DTR (and RTS without hardware handshake) is asserted. A
      // pseudo-terminal or an adapter without those lines answers "Inappropriate ioctl for
      // device": the port is open all the same, so that is not a failure.
      const flags = settings.flowControl === 'rtscts' ? { dtr: true } : { dtr: true, rts: true };
      try {
        port.set(flags, () => resolve(port));
      } catch {
        resolve(port);
      }
    });
  });
}

/**
 * Device number and inode of what the path names now (a symlink such as /dev/serial/by-id/… is
 * followed). On Windows a COM port is not a file: it is there while the system lists it.
 */
async function identifyPort(portPath: string): Promise<string | null> {
  if (process.platform === 'win32') {
    const wanted = portPath.toUpperCase();
    try {
      const ports = await (await serialport()).SerialPort.list();
      return ports.some((p) => p.path.toUpperCase() === wanted) ? wanted : null;
    } catch {
      // When the list itself fails, the port counts as present: only its own errors close it.
      return wanted;
    }
  }
  try {
    const s = await stat(portPath);
    return `${s.dev}:${s.ino}:${s.rdev}`;
  } catch {
    return null;
  }
}

/**
 * The serial ports the machine has, with what the system says of each (manufacturer, serial
 * number, USB IDs). `serialport` lists them through udev on Linux; where `udevadm` is missing
 * (containers, minimal systems) they are read from sysfs instead.
 */
export async function listSerialPorts(): Promise<SerialPortInfo[]> {
  if (process.platform === 'linux' && !(await hasUdevadm())) return listFromSysfs();
  const ports = await (await serialport()).SerialPort.list();
  return ports
    .map((p) => ({
      path: p.path,
      manufacturer: p.manufacturer ?? null,
      serialNumber: p.serialNumber ?? null,
      vendorId: p.vendorId ?? null,
      productId: p.productId ?? null,
    }))
    .sort((a, b) => a.path.localeCompare(b.path, undefined, { numeric: true }));
}

function hasUdevadm(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('udevadm', ['--version'], { timeout: 2_000 }, (error) => resolve(!error));
  });
}

const TTY_CLASS = '/sys/class/tty';

async function listFromSysfs(): Promise<SerialPortInfo[]> {
  let names: string[];
  try {
    names = await readdir(TTY_CLASS);
  } catch {
    return [];
  }
  const ports: SerialPortInfo[] = [];
  for (const name of names) {
    if (!/^tty(S|USB|ACM|AMA|WCH|XRUSB|MFD|O)\d+$/.test(name) && !/^rfcomm\d+$/.test(name))
      continue;
    let device: string;
    try {
      device = await realpath(path.join(TTY_CLASS, name, 'device'));
    } catch {
      continue; // no device behind it: a legacy ttySn placeholder
    }
    // A built-in ttyS port without hardware reports no UART type other than 0.
    if (/^ttyS\d+$/.test(name)) {
      const type = await readText(path.join(TTY_CLASS, name, 'type'));
      if (type === '0') continue;
    }
    const usb = await usbDevice(device);
    ports.push({
      path: `/dev/${name}`,
      manufacturer: usb ? await readText(path.join(usb, 'manufacturer')) : null,
      serialNumber: usb ? await readText(path.join(usb, 'serial')) : null,
      vendorId: usb ? await readText(path.join(usb, 'idVendor')) : null,
      productId: usb ? await readText(path.join(usb, 'idProduct')) : null,
    });
  }
  return ports.sort((a, b) => a.path.localeCompare(b.path, undefined, { numeric: true }));
}

/** The USB device a tty hangs off (the nearest ancestor with an idVendor), if any. */
async function usbDevice(device: string): Promise<string | null> {
  let dir = device;
  for (let i = 0; i < 4 && dir !== '/'; i++) {
    if ((await readText(path.join(dir, 'idVendor'))) !== null) return dir;
    dir = path.dirname(dir);
  }
  return null;
}

async function readText(file: string): Promise<string | null> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    return text === '' ? null : text;
  } catch {
    return null;
  }
}
