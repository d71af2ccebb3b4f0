/**
 * Counts what the store appends to the write-ahead log, from the header of the WAL index (the
 * `-shm` file SQLite maps into every connection): mxFrame, the frames in the log, and the salt,
 * which changes each time a writer starts the log over after a complete checkpoint. Read before
 * every checkpoint and whenever asked, so at most one restart falls between two readings and no
 * frame is missed or counted twice. A diagnosis figure: it never affects what is stored.
 */
import fs from 'node:fs';

/** Offsets in the WAL-index header (native byte order; see SQLite's wal.c, WalIndexHdr). */
const PAGE_SIZE_AT = 14;
const MAX_FRAME_AT = 16;
const SALT_AT = 32;
const HEADER_BYTES = 40;
const FRAME_HEADER_BYTES = 24;

export class WalMeter {
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private frames = 0;
  private bytes = 0;
  private lastFrame = 0;
  private lastSalt = -1n;
  private fd: number | null = null;
  private done = false;

  constructor(private readonly shmFile: string) {}

  /** Bytes appended so far; reads the index header first. */
  get walBytes(): number {
    this.read();
    return this.bytes;
  }

  get walFrames(): number {
    this.read();
    return this.frames;
  }

  /** Frames in the log now (mxFrame): where a checkpoint that began now would stop. */
  pagesNow(): number {
    this.read();
    return this.lastFrame;
  }

  /** Closes the file; call before the store's connection closes. */
  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    this.done = true;
  }

  /** Takes a reading; call before each checkpoint. Never throws. */
  read(): void {
    if (this.done) return;
    try {
      this.fd ??= fs.openSync(this.shmFile, 'r');
      if (fs.readSync(this.fd, this.header, 0, HEADER_BYTES, 0) < HEADER_BYTES) return;
    } catch {
      return;
    }
    const raw = this.header.readUInt16LE(PAGE_SIZE_AT);
    const pageSize = raw === 1 ? 65536 : raw;
    const maxFrame = this.header.readUInt32LE(MAX_FRAME_AT);
    const salt = this.header.readBigUInt64LE(SALT_AT);
    const added = salt === this.lastSalt ? maxFrame - this.lastFrame : maxFrame;
    if (this.lastSalt !== -1n && added > 0) {
      this.frames += added;
      this.bytes += added * (pageSize + FRAME_HEADER_BYTES);
    }
    this.lastSalt = salt;
    this.lastFrame = maxFrame;
  }
}
