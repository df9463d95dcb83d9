// wasi:filesystem/types: descriptor and directory-entry-stream. Every path goes through the shared
// host filesystem layer (src/fs), which confines it to the directory descriptor it is relative to,
// exactly as for p1: absolute paths, `..` above the descriptor and symlinks leading out are refused
// (not-permitted).
import { createHash, randomBytes } from 'node:crypto';
import fs, { type BigIntStats } from 'node:fs';
import {
  MAX_NODE_OFFSET, createDirectoryAt, fileKind, linkAt, openAt, readlinkAt, removeDirectoryAt, renameAt,
  setTimesAt, statAt, symlinkAt, unlinkFileAt, type FileKind,
} from '../../../fs/ops.ts';
import type { DirRef } from '../../../fs/paths.ts';
import { guestTimes, KEEP, setTimes, type TimeChange } from '../../../fs/times.ts';
import { toDatetime, type Datetime } from '../clocks/host.ts';
import { InputStream, OutputStream } from '../io/streams.ts';
import { attempt, type ErrorCode } from './errors.ts';
import { FileSink, FileSource, HostFile, StreamFileSink } from './files.ts';

export interface DescriptorFlags {
  read: boolean;
  write: boolean;
  fileIntegritySync: boolean;
  dataIntegritySync: boolean;
  requestedWriteSync: boolean;
  mutateDirectory: boolean;
}

export interface PathFlags {
  symlinkFollow?: boolean;
}

export interface OpenFlags {
  create?: boolean;
  directory?: boolean;
  exclusive?: boolean;
  truncate?: boolean;
}

export type NewTimestamp = { tag: 'no-change' } | { tag: 'now' } | { tag: 'timestamp'; val: Datetime };

export interface DescriptorStat {
  type: FileKind;
  linkCount: bigint;
  size: bigint;
  dataAccessTimestamp: Datetime | undefined;
  dataModificationTimestamp: Datetime | undefined;
  statusChangeTimestamp: Datetime | undefined;
}

export interface DirectoryEntry {
  type: FileKind;
  name: string;
}

export interface MetadataHashValue {
  lower: bigint;
  upper: bigint;
}

/** Read the most at once with descriptor.read; a shorter result is not the end of the file. */
const MAX_READ = 1 << 22;

/** What every descriptor of one instance shares: its open host files, and the key of its
 *  metadata hashes (so that they do not leak host inode numbers as such). */
export interface FsState {
  readonly files: Set<HostFile>;
  readonly hashKey: Buffer;
}

export function newFsState(): FsState {
  return { files: new Set(), hashKey: randomBytes(16) };
}

const FLAGS_NONE: DescriptorFlags = Object.freeze({
  read: false, write: false, fileIntegritySync: false, dataIntegritySync: false, requestedWriteSync: false,
  mutateDirectory: false,
});

export function descriptorFlags(f: Partial<DescriptorFlags>): DescriptorFlags {
  return { ...FLAGS_NONE, ...f };
}

function statOf(st: BigIntStats): DescriptorStat {
  const { atim, mtim } = guestTimes(st);
  return {
    type: fileKind(st),
    linkCount: st.nlink,
    size: st.size,
    dataAccessTimestamp: toDatetime(atim),
    dataModificationTimestamp: toDatetime(mtim),
    statusChangeTimestamp: toDatetime(st.ctimeNs),
  };
}

function timeChange(t: NewTimestamp): TimeChange {
  switch (t.tag) {
    case 'no-change': return KEEP;
    case 'now': return { kind: 'now' };
    case 'timestamp':
      if (t.val.nanoseconds >= 1_000_000_000) throw 'invalid' satisfies ErrorCode;
      return { kind: 'set', ns: t.val.seconds * 1_000_000_000n + BigInt(t.val.nanoseconds) };
  }
}

function hashOf(state: FsState, st: BigIntStats): MetadataHashValue {
  const h = createHash('sha256').update(state.hashKey).update(`${st.dev}:${st.ino}`).digest();
  return { lower: h.readBigUInt64LE(0), upper: h.readBigUInt64LE(8) };
}

export class Descriptor {
  readonly #state: FsState;
  /** Set for a directory: the directory its paths are confined to. */
  readonly #dir: DirRef | null;
  /** Set for anything else. */
  readonly #file: HostFile | null;
  readonly #flags: DescriptorFlags;

  private constructor(state: FsState, dir: DirRef | null, file: HostFile | null, flags: DescriptorFlags) {
    this.#state = state;
    this.#dir = dir;
    this.#file = file;
    this.#flags = flags;
  }

  /** A directory descriptor (a preopen, or a directory opened under one). */
  static directory(state: FsState, hostPath: string, flags: DescriptorFlags): Descriptor {
    return new Descriptor(state, { hostPath }, null, flags);
  }

  static file(state: FsState, hostFd: number, kind: FileKind, flags: DescriptorFlags): Descriptor {
    return new Descriptor(state, null, new HostFile(hostFd, kind, state.files), flags);
  }

  #needDir(): DirRef {
    if (!this.#dir) throw 'not-directory' satisfies ErrorCode;
    return this.#dir;
  }

  #needMutableDir(): DirRef {
    const d = this.#needDir();
    if (!this.#flags.mutateDirectory) throw 'not-permitted' satisfies ErrorCode;
    return d;
  }

  #needFile(right: 'read' | 'write' | null): HostFile {
    if (!this.#file) throw 'is-directory' satisfies ErrorCode;
    if (this.#file.closed) throw 'bad-descriptor' satisfies ErrorCode;
    if (right && !this.#flags[right]) throw 'bad-descriptor' satisfies ErrorCode;
    return this.#file;
  }

  #stat(): BigIntStats {
    if (this.#dir) return fs.statSync(this.#dir.hostPath, { bigint: true });
    return fs.fstatSync(this.#needFile(null).hostFd, { bigint: true });
  }

  #sync(data: boolean): void {
    if (this.#file) {
      const fd = this.#needFile(null).hostFd;
      if (data) fs.fdatasyncSync(fd);
      else fs.fsyncSync(fd);
      return;
    }
    const fd = fs.openSync(this.#needDir().hostPath, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  readViaStream(offset: bigint): InputStream {
    return attempt(() => new InputStream(new FileSource(this.#needFile('read'), offset)));
  }

  writeViaStream(offset: bigint): OutputStream {
    return attempt(() => {
      const f = this.#needFile('write');
      if (!f.seekable) return new OutputStream(new StreamFileSink(f));
      return new OutputStream(new FileSink(f, offset, this.#syncMode()));
    });
  }

  appendViaStream(): OutputStream {
    return attempt(() => {
      const f = this.#needFile('write');
      if (!f.seekable) return new OutputStream(new StreamFileSink(f));
      return new OutputStream(new FileSink(f, null, this.#syncMode()));
    });
  }

  #syncMode() {
    return { file: this.#flags.fileIntegritySync, data: this.#flags.dataIntegritySync };
  }

  /** Advisory only (Node has no posix_fadvise). */
  advise(_offset: bigint, _length: bigint, _advice: string): void {
    attempt(() => this.#needFile(null));
  }

  syncData(): void {
    attempt(() => this.#sync(true));
  }

  sync(): void {
    attempt(() => this.#sync(false));
  }

  getFlags(): DescriptorFlags {
    return attempt(() => {
      if (this.#file?.closed) throw 'bad-descriptor' satisfies ErrorCode;
      return { ...this.#flags };
    });
  }

  getType(): FileKind {
    return attempt(() => (this.#dir ? 'directory' : this.#needFile(null).kind));
  }

  setSize(size: bigint): void {
    attempt(() => {
      const f = this.#needFile('write');
      if (size > MAX_NODE_OFFSET) throw 'file-too-large' satisfies ErrorCode;
      fs.ftruncateSync(f.hostFd, Number(size));
    });
  }

  setTimes(atim: NewTimestamp, mtim: NewTimestamp): void {
    attempt(() => {
      const a = timeChange(atim);
      const m = timeChange(mtim);
      if (this.#dir) {
        const p = this.#dir.hostPath;
        setTimes(() => fs.statSync(p, { bigint: true }), (x, y) => fs.utimesSync(p, x, y), a, m);
      } else {
        const fd = this.#needFile(null).hostFd;
        setTimes(() => fs.fstatSync(fd, { bigint: true }), (x, y) => fs.futimesSync(fd, x, y), a, m);
      }
    });
  }

  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    return attempt(() => {
      const f = this.#needFile('read');
      const want = length > BigInt(MAX_READ) ? MAX_READ : Number(length);
      if (want === 0) return [new Uint8Array(0), false];
      if (f.seekable && offset >= MAX_NODE_OFFSET) return [new Uint8Array(0), true];
      const buf = Buffer.allocUnsafe(want);
      const n = fs.readSync(f.hostFd, buf, 0, want, f.seekable ? Number(offset) : null);
      // A regular file reads short only at its end; anything else only says so with 0 bytes.
      const eof = f.seekable ? n < want : n === 0;
      return [buf.subarray(0, n), eof];
    });
  }

  write(buffer: Uint8Array, offset: bigint): bigint {
    return attempt(() => {
      const f = this.#needFile('write');
      if (f.seekable && offset + BigInt(buffer.length) > MAX_NODE_OFFSET) throw 'file-too-large' satisfies ErrorCode;
      const n = fs.writeSync(f.hostFd, buffer, 0, buffer.length, f.seekable ? Number(offset) : null);
      if (this.#flags.fileIntegritySync) fs.fsyncSync(f.hostFd);
      else if (this.#flags.dataIntegritySync) fs.fdatasyncSync(f.hostFd);
      return BigInt(n);
    });
  }

  readDirectory(): DirectoryEntryStream {
    return attempt(() => {
      const dir = this.#needDir();
      if (!this.#flags.read) throw 'not-permitted' satisfies ErrorCode;
      return new DirectoryEntryStream(dir.hostPath);
    });
  }

  createDirectoryAt(path: string): void {
    attempt(() => createDirectoryAt(this.#needMutableDir(), path));
  }

  stat(): DescriptorStat {
    return attempt(() => statOf(this.#stat()));
  }

  statAt(pathFlags: PathFlags, path: string): DescriptorStat {
    return attempt(() => statOf(statAt(this.#needDir(), path, !!pathFlags.symlinkFollow)));
  }

  setTimesAt(pathFlags: PathFlags, path: string, atim: NewTimestamp, mtim: NewTimestamp): void {
    attempt(() => setTimesAt(this.#needMutableDir(), path, !!pathFlags.symlinkFollow, timeChange(atim), timeChange(mtim)));
  }

  linkAt(oldPathFlags: PathFlags, oldPath: string, newDescriptor: Descriptor, newPath: string): void {
    attempt(() => {
      const from = this.#needDir();
      const to = newDescriptor.#needMutableDir();
      linkAt(from, oldPath, !!oldPathFlags.symlinkFollow, to, newPath);
    });
  }

  openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: Partial<DescriptorFlags>): Descriptor {
    return attempt(() => {
      const dir = this.#needDir();
      const want = descriptorFlags(flags);
      if (!this.#flags.mutateDirectory && (openFlags.create || openFlags.truncate || want.write || want.mutateDirectory)) {
        throw 'not-permitted' satisfies ErrorCode;
      }
      const opened = openAt(dir, path, {
        follow: !!pathFlags.symlinkFollow,
        create: !!openFlags.create,
        exclusive: !!openFlags.exclusive,
        truncate: !!openFlags.truncate,
        directory: !!openFlags.directory,
        read: want.read,
        write: want.write,
      });
      if (opened.kind === 'dir') {
        // As in wasmtime: a directory opened under another has its parent's permissions.
        return Descriptor.directory(this.#state, opened.hostPath, descriptorFlags({
          read: this.#flags.read, mutateDirectory: this.#flags.mutateDirectory,
        }));
      }
      return Descriptor.file(this.#state, opened.hostFd, opened.fileKind, { ...want, mutateDirectory: false });
    });
  }

  readlinkAt(path: string): string {
    return attempt(() => readlinkAt(this.#needDir(), path).toString('utf8'));
  }

  removeDirectoryAt(path: string): void {
    attempt(() => removeDirectoryAt(this.#needMutableDir(), path));
  }

  renameAt(oldPath: string, newDescriptor: Descriptor, newPath: string): void {
    attempt(() => renameAt(this.#needMutableDir(), oldPath, newDescriptor.#needMutableDir(), newPath));
  }

  symlinkAt(oldPath: string, newPath: string): void {
    attempt(() => symlinkAt(oldPath, this.#needMutableDir(), newPath));
  }

  unlinkFileAt(path: string): void {
    attempt(() => unlinkFileAt(this.#needMutableDir(), path));
  }

  isSameObject(other: Descriptor): boolean {
    if (other === this) return true;
    try {
      const a = this.#stat();
      const b = other.#stat();
      return a.dev === b.dev && a.ino === b.ino;
    } catch {
      return false;
    }
  }

  metadataHash(): MetadataHashValue {
    return attempt(() => hashOf(this.#state, this.#stat()));
  }

  metadataHashAt(pathFlags: PathFlags, path: string): MetadataHashValue {
    return attempt(() => hashOf(this.#state, statAt(this.#needDir(), path, !!pathFlags.symlinkFollow)));
  }

  [Symbol.dispose](): void {
    this.#file?.release();
  }
}

/** The entries of a directory (without `.` and `..`), as listed when read-directory was called. */
export class DirectoryEntryStream {
  readonly #hostPath: string;
  readonly #entries: fs.Dirent[];
  #next = 0;

  constructor(hostPath: string) {
    this.#hostPath = hostPath;
    this.#entries = fs.readdirSync(hostPath, { withFileTypes: true });
  }

  readDirectoryEntry(): DirectoryEntry | undefined {
    return attempt(() => {
      const d = this.#entries[this.#next];
      if (!d) return undefined;
      this.#next++;
      let type = fileKind(d);
      if (type === 'unknown') {
        // Some filesystems do not say in readdir: ask lstat (the entry may be gone by now).
        try { type = fileKind(fs.lstatSync(`${this.#hostPath}/${d.name}`)); } catch { /* keep unknown */ }
      }
      return { type, name: d.name };
    });
  }

  [Symbol.dispose](): void {}
}
