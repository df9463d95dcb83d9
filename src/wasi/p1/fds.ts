import type { TcpConnection, TcpListener } from '../../net/types.ts';
import type { DirFd, FileFd, StdioFd } from './fs/types.ts';
import { errno } from './abi.ts';
import { WasiError } from './errors.ts';

export interface SocketFd {
  kind: 'socket';
  rightsBase: bigint;
  rightsInheriting: bigint;
  fdflags: number;
  conn: TcpConnection;
}

export interface ListenerFd {
  kind: 'listener';
  rightsBase: bigint;
  rightsInheriting: bigint;
  fdflags: number;
  listener: TcpListener;
}

export type FdEntry = StdioFd | FileFd | DirFd | SocketFd | ListenerFd;

/** The guest's fd table. New fds take the lowest free number, as POSIX does. */
export class FdTable {
  readonly #entries = new Map<number, FdEntry>();
  #next = 0; // lowest number that may be free

  get(fd: number): FdEntry {
    const e = this.#entries.get(fd);
    if (!e) throw new WasiError(errno.badf);
    return e;
  }

  tryGet(fd: number): FdEntry | undefined {
    return this.#entries.get(fd);
  }

  /** Gets `fd` and checks it holds all of `rights`; EBADF / ENOTCAPABLE otherwise. */
  withRights(fd: number, rights: bigint): FdEntry {
    const e = this.get(fd);
    if ((e.rightsBase & rights) !== rights) throw new WasiError(errno.notcapable);
    return e;
  }

  add(entry: FdEntry): number {
    while (this.#entries.has(this.#next)) this.#next++;
    const fd = this.#next++;
    this.#entries.set(fd, entry);
    return fd;
  }

  set(fd: number, entry: FdEntry): void {
    this.#entries.set(fd, entry);
  }

  remove(fd: number): FdEntry {
    const e = this.get(fd);
    this.#entries.delete(fd);
    if (fd < this.#next) this.#next = fd;
    return e;
  }

  /** fd_renumber: `to` is closed by the caller first if open; `from` moves to `to`. */
  renumber(from: number, to: number): void {
    const e = this.get(from);
    this.get(to);
    this.#entries.delete(from);
    this.#entries.set(to, e);
    if (from < this.#next) this.#next = from;
  }

  entries(): IterableIterator<[number, FdEntry]> {
    return this.#entries.entries();
  }
}
