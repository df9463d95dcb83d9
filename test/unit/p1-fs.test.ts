// fd_* and path_* behaviour with exact errnos, driven through the WAT trampoline.
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  E, FDFLAGS, FST, FT, OFLAGS, PRE, R, RW, WHENCE, WILD, harness, tempDir, type Harness,
} from './p1-fs-harness.ts';

describe('p1 fs: preopens and stdio', () => {
  let tmp: string;
  let h: Harness;
  before(async () => {
    tmp = tempDir();
    fs.mkdirSync(path.join(tmp, 'a'));
    fs.mkdirSync(path.join(tmp, 'b'));
    h = await harness({ preopens: [{ host: path.join(tmp, 'a'), guest: '/data' }, { host: path.join(tmp, 'b'), guest: 'ü' }] });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('fd_prestat_get is EBADF for stdio and for fds past the preopens', async () => {
    const out = h.alloc(8);
    for (const fd of [0, 1, 2, 5, 1000, -1]) assert.equal(await h.call('fd_prestat_get', fd, out), E.BADF, `fd ${fd}`);
  });

  it('fd_prestat_get and fd_prestat_dir_name describe the preopens', async () => {
    const out = h.alloc(8);
    h.bytes.fill(0xff, out, out + 8);
    assert.equal(await h.call('fd_prestat_get', 3, out), E.SUCCESS);
    assert.equal(h.u8(out), 0, 'tag dir');
    assert.equal(h.u32(out + 4), 5);
    const name = h.alloc(16);
    assert.equal(await h.call('fd_prestat_dir_name', 3, name, 4), E.NAMETOOLONG);
    assert.equal(await h.call('fd_prestat_dir_name', 3, name, 16), E.SUCCESS);
    assert.equal(h.str(name, 5), '/data');
    assert.equal(await h.call('fd_prestat_get', 4, out), E.SUCCESS);
    assert.equal(h.u32(out + 4), 2, 'length in UTF-8 bytes');
    assert.equal(await h.call('fd_prestat_dir_name', 4, name, 2), E.SUCCESS);
    assert.equal(h.str(name, 2), 'ü');
    assert.equal(await h.call('fd_prestat_dir_name', 3, WILD, 16), E.FAULT);
    assert.equal(await h.call('fd_prestat_get', 3, WILD), E.FAULT);
  });

  it('fd_fdstat_get: directory rights on a preopen, none of the file-only ones', async () => {
    const [rc, st] = await h.fdstat(3);
    assert.equal(rc, E.SUCCESS);
    assert.equal(st.filetype, FT.DIR);
    assert.equal(st.base & R.FD_READ, 0n);
    assert.equal(st.base & R.FD_SEEK, 0n);
    assert.notEqual(st.base & R.PATH_OPEN, 0n);
    assert.notEqual(st.inheriting & R.FD_READ, 0n);
  });

  it('stdio: fdstat works, seeking is ESPIPE, files are EBADF once closed', async () => {
    assert.equal((await h.fdstat(1))[0], E.SUCCESS);
    const pos = h.alloc(8);
    assert.equal(await h.call('fd_seek', 1, 0n, WHENCE.CUR, pos), E.SPIPE);
    assert.equal(await h.call('fd_tell', 2, pos), E.SPIPE);
    assert.equal(await h.call('fd_pread', 0, 0, 0, 0n, pos), E.SPIPE);
  });

  it('a preopen can be closed, and is EBADF afterwards', async () => {
    assert.equal(await h.call('fd_close', 4), E.SUCCESS);
    assert.equal(await h.call('fd_close', 4), E.BADF);
    assert.equal((await h.fdstat(4))[0], E.BADF);
    assert.equal(await h.call('fd_prestat_get', 4, h.alloc(8)), E.BADF);
  });
});

describe('p1 fs: files', () => {
  let tmp: string;
  let h: Harness;
  before(() => { tmp = tempDir(); });
  beforeEach(async () => {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp);
    h = await harness({ preopens: [{ host: tmp, guest: '.' }] });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const create = async (name: string, opts: Parameters<Harness['open']>[2] = {}) => {
    const [rc, fd] = await h.open(PRE, name, { oflags: OFLAGS.CREAT, ...opts });
    assert.equal(rc, E.SUCCESS, `create ${name}`);
    return fd;
  };
  const seek = async (fd: number, off: bigint, wh: number): Promise<[number, bigint]> => {
    const out = h.alloc(8);
    const rc = await h.call('fd_seek', fd, off, wh, out);
    return [rc, h.u64(out)];
  };
  const tell = async (fd: number): Promise<bigint> => {
    const out = h.alloc(8);
    assert.equal(await h.call('fd_tell', fd, out), E.SUCCESS);
    return h.u64(out);
  };

  it('writes gathered iovecs, then seeks and tells', async () => {
    const fd = await create('f.txt');
    assert.deepEqual(await h.write(fd, 'hello ', 'world'), [E.SUCCESS, 11]);
    assert.equal(fs.readFileSync(path.join(tmp, 'f.txt'), 'utf8'), 'hello world');
    assert.equal(await tell(fd), 11n);
    assert.deepEqual(await seek(fd, -5n, WHENCE.CUR), [E.SUCCESS, 6n]);
    assert.deepEqual(await h.read(fd, 100), [E.SUCCESS, 'world']);
    assert.equal(await tell(fd), 11n);
    assert.deepEqual(await seek(fd, 2n, WHENCE.SET), [E.SUCCESS, 2n]);
    assert.deepEqual(await h.read(fd, 3), [E.SUCCESS, 'llo']);
    assert.deepEqual(await seek(fd, -1n, WHENCE.END), [E.SUCCESS, 10n]);
    assert.deepEqual(await seek(fd, 100n, WHENCE.END), [E.SUCCESS, 111n], 'past the end is fine');
    assert.deepEqual(await h.read(fd, 10), [E.SUCCESS, ''], 'reads at EOF give 0 bytes');
    assert.equal((await seek(fd, -1000n, WHENCE.CUR))[0], E.INVAL);
    assert.equal((await seek(fd, 0n, 7))[0], E.INVAL, 'unknown whence');
    assert.equal(await tell(fd), 111n, 'failed seeks leave the offset alone');
    assert.equal(await h.call('fd_seek', fd, 0n, WHENCE.SET, WILD), E.FAULT);
  });

  it('scatters reads over several iovecs and stops at EOF', async () => {
    fs.writeFileSync(path.join(tmp, 'r.txt'), 'abcdefghij');
    const [, fd] = await h.open(PRE, 'r.txt');
    const [iovs, n, [b1, b2, b3]] = h.iovecs(3, 4, 10);
    const out = h.alloc(4);
    assert.equal(await h.call('fd_read', fd, iovs, n, out), E.SUCCESS);
    assert.equal(h.u32(out), 10);
    assert.equal(h.str(b1!, 3) + h.str(b2!, 4) + h.str(b3!, 3), 'abcdefghij');
  });

  it('pread/pwrite use their offset and leave the file offset alone', async () => {
    const fd = await create('p.txt');
    await h.write(fd, '0123456789');
    await seek(fd, 4n, WHENCE.SET);
    const [ciovs, cn] = h.ciovecs('XY');
    const nw = h.alloc(4);
    assert.equal(await h.call('fd_pwrite', fd, ciovs, cn, 1n, nw), E.SUCCESS);
    assert.equal(h.u32(nw), 2);
    const [iovs, n, [buf]] = h.iovecs(4);
    assert.equal(await h.call('fd_pread', fd, iovs, n, 0n, nw), E.SUCCESS);
    assert.equal(h.str(buf!, h.u32(nw)), '0XY3');
    assert.equal(await tell(fd), 4n);
    assert.equal(await h.call('fd_pread', fd, iovs, n, 1n << 63n, nw), E.INVAL, 'offset beyond off_t');
  });

  it('APPEND writes at the end whatever the offset, and can be switched off', async () => {
    const fd = await create('a.txt', { fdflags: FDFLAGS.APPEND });
    await h.write(fd, 'one');
    await seek(fd, 0n, WHENCE.SET);
    await h.write(fd, 'two');
    assert.equal(fs.readFileSync(path.join(tmp, 'a.txt'), 'utf8'), 'onetwo');
    assert.equal(await tell(fd), 6n);
    assert.equal((await h.fdstat(fd))[1].flags, FDFLAGS.APPEND);
    assert.equal(await h.call('fd_fdstat_set_flags', fd, 0), E.SUCCESS);
    await seek(fd, 0n, WHENCE.SET);
    await h.write(fd, 'ONE');
    assert.equal(fs.readFileSync(path.join(tmp, 'a.txt'), 'utf8'), 'ONEtwo');
    assert.equal((await h.fdstat(fd))[1].flags, 0);
    assert.equal(await h.call('fd_fdstat_set_flags', fd, 0x100), E.INVAL);
  });

  it('bad iovec pointers are EFAULT and write nothing', async () => {
    const fd = await create('e.txt');
    const out = h.alloc(4);
    assert.equal(await h.call('fd_write', fd, WILD, 1, out), E.FAULT, 'iovec array outside memory');
    const arr = h.alloc(8);
    h.view.setUint32(arr, WILD, true);
    h.view.setUint32(arr + 4, 64, true);
    assert.equal(await h.call('fd_write', fd, arr, 1, out), E.FAULT, 'buffer outside memory');
    const [ok, okn] = h.ciovecs('data');
    assert.equal(await h.call('fd_write', fd, ok, okn, WILD), E.FAULT, 'result pointer outside memory');
    assert.equal(fs.statSync(path.join(tmp, 'e.txt')).size, 0);
    assert.equal(await h.call('fd_read', fd, WILD, 1, out), E.FAULT);
    assert.equal(await h.call('fd_filestat_get', fd, WILD), E.FAULT);
    assert.equal(await h.call('fd_fdstat_get', fd, 0x7fffffff), E.FAULT);
  });

  it('rights: a new fd gets what it asked for, within the directory\'s inheriting rights', async () => {
    fs.writeFileSync(path.join(tmp, 'ro.txt'), 'x');
    const [, ro] = await h.open(PRE, 'ro.txt', { base: R.FD_READ | R.PATH_OPEN });
    const [, st] = await h.fdstat(ro);
    assert.equal(st.filetype, FT.FILE);
    assert.equal(st.base, R.FD_READ, 'directory-only rights dropped for a file');
    assert.equal((await h.write(ro, 'no'))[0], E.NOTCAPABLE);
    assert.equal(await h.call('fd_fdstat_set_rights', ro, R.FD_READ | R.FD_WRITE, 0n), E.NOTCAPABLE, 'cannot widen');
    assert.equal(await h.call('fd_fdstat_set_rights', ro, 0n, 0n), E.SUCCESS, 'can narrow');
    assert.equal((await h.read(ro, 1))[0], E.NOTCAPABLE);
    // Narrow the directory's inheriting rights: new fds cannot have FD_WRITE any more.
    const [, dst] = await h.fdstat(PRE);
    assert.equal(await h.call('fd_fdstat_set_rights', PRE, dst.base, dst.inheriting & ~R.FD_WRITE), E.SUCCESS);
    const [, rw] = await h.open(PRE, 'ro.txt', { base: R.FD_READ | R.FD_WRITE });
    assert.equal((await h.fdstat(rw))[1].base, R.FD_READ);
    assert.equal((await h.write(rw, 'no'))[0], E.NOTCAPABLE);
    assert.equal(fs.readFileSync(path.join(tmp, 'ro.txt'), 'utf8'), 'x');
  });

  it('path_open oflags: EXCL, TRUNC, DIRECTORY', async () => {
    fs.writeFileSync(path.join(tmp, 'x.txt'), 'content');
    assert.equal((await h.open(PRE, 'x.txt', { oflags: OFLAGS.CREAT | OFLAGS.EXCL }))[0], E.EXIST);
    assert.equal((await h.open(PRE, 'x.txt', { oflags: OFLAGS.DIRECTORY }))[0], E.NOTDIR);
    assert.equal((await h.open(PRE, 'missing'))[0], E.NOENT);
    assert.equal((await h.open(PRE, 'x.txt', { oflags: OFLAGS.TRUNC }))[0], E.SUCCESS);
    assert.equal(fs.statSync(path.join(tmp, 'x.txt')).size, 0);
    fs.mkdirSync(path.join(tmp, 'd'));
    assert.equal((await h.open(PRE, 'd', { oflags: OFLAGS.DIRECTORY, base: R.FD_READ | R.FD_WRITE }))[0], E.ISDIR);
    const [rc, d] = await h.open(PRE, 'd', { oflags: OFLAGS.DIRECTORY, base: R.FD_READ | R.FD_READDIR });
    assert.equal(rc, E.SUCCESS);
    const [, st] = await h.fdstat(d);
    assert.equal(st.filetype, FT.DIR);
    assert.equal(st.base, R.FD_READDIR, 'FD_READ is not a directory right');
    assert.equal((await h.read(d, 4))[0], E.NOTCAPABLE);
    assert.equal(await h.call('fd_seek', d, 0n, WHENCE.SET, h.alloc(8)), E.NOTCAPABLE);
  });

  it('filestat times have nanosecond precision; NOW and omitted times behave', async () => {
    const fd = await create('t.txt');
    const out = h.alloc(64);
    assert.equal(await h.call('fd_filestat_get', fd, out), E.SUCCESS);
    const before = h.filestat(out);
    const mtim = 1_234_567_890_123_456_789n;
    assert.equal(await h.call('fd_filestat_set_times', fd, 0n, mtim, FST.MTIM), E.SUCCESS);
    await h.call('fd_filestat_get', fd, out);
    const after = h.filestat(out);
    assert.equal(after.mtim, mtim, 'exact nanoseconds read back');
    assert.equal(after.atim, before.atim, 'atime left alone');
    const hostNs = fs.statSync(path.join(tmp, 't.txt'), { bigint: true }).mtimeNs;
    assert.ok(hostNs - mtim < 1000n && mtim - hostNs < 1000n, `host mtime within 1 µs (${hostNs})`);
    const [, ps] = await h.pathStat(PRE, 't.txt');
    assert.equal(ps.mtim, mtim, 'path_filestat_get agrees');
    assert.equal(await h.call('fd_filestat_set_times', fd, 5n, 5n, FST.ATIM | FST.ATIM_NOW), E.INVAL);
    assert.equal(await h.call('fd_filestat_set_times', fd, 5n, 5n, FST.MTIM | FST.MTIM_NOW), E.INVAL);
    assert.equal(await h.call('fd_filestat_set_times', fd, 5n, 5n, 0x10), E.INVAL);
    const [pp, pl] = h.put('t.txt');
    assert.equal(await h.call('path_filestat_set_times', PRE, 1, pp, pl, 0n, 0n, FST.MTIM_NOW | FST.ATIM), E.SUCCESS);
    const [, now] = await h.pathStat(PRE, 't.txt');
    assert.equal(now.atim, 0n);
    const wall = BigInt(Date.now()) * 1_000_000n;
    assert.ok(now.mtim > wall - 5_000_000_000n && now.mtim <= wall + 5_000_000_000n, 'MTIM_NOW is about now');
    // A write moves mtime on the host: the guest sees the new time, not the stale exact one.
    await h.call('fd_filestat_set_times', fd, 0n, mtim, FST.MTIM);
    fs.utimesSync(path.join(tmp, 't.txt'), 1000, 2000);
    assert.equal((await h.pathStat(PRE, 't.txt'))[1].mtim, 2_000_000_000_000n);
  });

  it('filestat reports size, type, nlink and inode', async () => {
    const fd = await create('s.txt');
    await h.write(fd, '12345');
    const [rc, st] = await h.fdStat(fd);
    assert.equal(rc, E.SUCCESS);
    const host = fs.statSync(path.join(tmp, 's.txt'), { bigint: true });
    assert.equal(st.size, 5n);
    assert.equal(st.filetype, FT.FILE);
    assert.equal(st.ino, host.ino);
    assert.equal(st.dev, host.dev);
    assert.equal(st.nlink, 1n);
    assert.equal(await h.call('fd_filestat_set_size', fd, 2n), E.SUCCESS);
    assert.equal(fs.readFileSync(path.join(tmp, 's.txt'), 'utf8'), '12');
    assert.equal(await h.call('fd_allocate', fd, 0n, 10n), E.SUCCESS);
    assert.equal(fs.statSync(path.join(tmp, 's.txt')).size, 10);
    assert.equal(await h.call('fd_allocate', fd, 2n, 3n), E.SUCCESS);
    assert.equal(fs.statSync(path.join(tmp, 's.txt')).size, 10, 'allocate never shrinks');
    assert.equal(await h.call('fd_advise', fd, 0n, 10n, 9), E.INVAL);
    assert.equal(await h.call('fd_advise', fd, 0n, 10n, 2), E.SUCCESS);
    assert.equal(await h.call('fd_sync', fd), E.SUCCESS);
    assert.equal(await h.call('fd_datasync', fd), E.SUCCESS);
  });

  it('fd_renumber moves an fd over another, closing it', async () => {
    const a = await create('a');
    const b = await create('b');
    await h.write(a, 'from a');
    await seek(a, 0n, WHENCE.SET);
    assert.equal(await h.call('fd_renumber', a, b), E.SUCCESS);
    assert.equal((await h.fdstat(a))[0], E.BADF);
    assert.deepEqual(await h.read(b, 100), [E.SUCCESS, 'from a']);
    assert.equal(await h.call('fd_renumber', b, 99), E.BADF, 'the target must be open');
    assert.equal(await h.call('fd_renumber', 99, b), E.BADF);
    assert.equal(await h.call('fd_renumber', b, b), E.SUCCESS);
    const [, c] = await h.open(PRE, 'b');
    assert.equal(c, a, 'the lowest free number is reused');
    assert.equal(await h.call('fd_renumber', b, PRE), E.SUCCESS, 'over a preopen');
    assert.equal(await h.call('fd_prestat_get', PRE, h.alloc(8)), E.BADF);
  });

  it('fd_readdir lists . and .. with dirent layout, cookies and truncation', async () => {
    fs.writeFileSync(path.join(tmp, 'file1'), '');
    fs.mkdirSync(path.join(tmp, 'dir2'));
    fs.symlinkSync('file1', path.join(tmp, 'link3'));
    const readdir = async (fd: number, size: number, cookie: bigint) => {
      const buf = h.alloc(size);
      const used = h.alloc(4);
      const rc = await h.call('fd_readdir', fd, buf, size, cookie, used);
      const n = h.u32(used);
      const ents: { next: bigint; ino: bigint; name: string; type: number }[] = [];
      for (let p = buf; p + 24 <= buf + n;) {
        const len = h.u32(p + 16);
        if (p + 24 + len > buf + n) break;
        ents.push({ next: h.u64(p), ino: h.u64(p + 8), type: h.u8(p + 20), name: h.str(p + 24, len) });
        p += 24 + len;
      }
      return { rc, n, ents };
    };
    const all = await readdir(PRE, 4096, 0n);
    assert.equal(all.rc, E.SUCCESS);
    const byName = new Map(all.ents.map((e) => [e.name, e]));
    assert.deepEqual([...byName.keys()].sort(), ['.', '..', 'dir2', 'file1', 'link3']);
    assert.equal(byName.get('.')!.type, FT.DIR);
    assert.equal(byName.get('..')!.type, FT.DIR);
    assert.equal(byName.get('dir2')!.type, FT.DIR);
    assert.equal(byName.get('file1')!.type, FT.FILE);
    assert.equal(byName.get('link3')!.type, FT.SYMLINK);
    assert.equal(byName.get('.')!.ino, fs.statSync(tmp, { bigint: true }).ino);
    assert.equal(byName.get('file1')!.ino, fs.statSync(path.join(tmp, 'file1'), { bigint: true }).ino);
    assert.deepEqual(all.ents.map((e) => e.next), [1n, 2n, 3n, 4n, 5n], 'cookies count entries');
    // Resume after the second entry.
    const rest = await readdir(PRE, 4096, all.ents[1]!.next);
    assert.deepEqual(rest.ents.map((e) => e.name), all.ents.slice(2).map((e) => e.name));
    const end = await readdir(PRE, 4096, 5n);
    assert.equal(end.n, 0, 'past the last entry: nothing');
    // A buffer too small for the third entry: filled completely, the last entry truncated.
    const small = await readdir(PRE, 24 + 1 + 24 + 2 + 10, 0n);
    assert.equal(small.n, 24 + 1 + 24 + 2 + 10, 'bufused == buf_len signals truncation');
    assert.deepEqual(small.ents.map((e) => e.name), ['.', '..']);
    const [, file] = await h.open(PRE, 'file1', { base: R.FD_READ | R.FD_READDIR });
    assert.equal((await readdir(file, 100, 0n)).rc, E.NOTCAPABLE);
    assert.equal(await h.call('fd_readdir', PRE, WILD, 100, 0n, h.alloc(4)), E.FAULT);
  });

  it('creates, renames, links and removes entries', async () => {
    assert.equal(await h.pathCall('path_create_directory', PRE, 'd'), E.SUCCESS);
    assert.equal(await h.pathCall('path_create_directory', PRE, 'd'), E.EXIST);
    assert.ok(fs.statSync(path.join(tmp, 'd')).isDirectory());
    fs.writeFileSync(path.join(tmp, 'd', 'f'), 'x');
    assert.equal(await h.pathCall('path_remove_directory', PRE, 'd'), E.NOTEMPTY);
    assert.equal(await h.pathCall('path_unlink_file', PRE, 'd'), E.ISDIR);
    assert.equal(await h.pathCall('path_unlink_file', PRE, 'd/f/'), E.NOTDIR);
    const [a, al] = h.put('d/f');
    const [b, bl] = h.put('g');
    assert.equal(await h.call('path_link', PRE, 0, a, al, PRE, b, bl), E.SUCCESS);
    assert.equal(fs.statSync(path.join(tmp, 'g')).nlink, 2);
    assert.equal(await h.call('path_link', PRE, 0, a, al, PRE, b, bl), E.EXIST);
    assert.equal(await h.pathCall('path_unlink_file', PRE, 'd/f'), E.SUCCESS);
    assert.equal(await h.pathCall('path_remove_directory', PRE, 'd/'), E.SUCCESS);
    const [c, cl] = h.put('h');
    assert.equal(await h.call('path_rename', PRE, b, bl, PRE, c, cl), E.SUCCESS);
    assert.deepEqual(fs.readdirSync(tmp), ['h']);
    assert.equal(await h.pathCall('path_remove_directory', PRE, 'h'), E.NOTDIR);
  });

  it('checks the directory rights of path_* calls', async () => {
    const [, dst] = await h.fdstat(PRE);
    const drop = (1n << 9n) /* create_directory */ | (1n << 26n) /* unlink_file */;
    assert.equal(await h.call('fd_fdstat_set_rights', PRE, dst.base & ~drop, dst.inheriting), E.SUCCESS);
    assert.equal(await h.pathCall('path_create_directory', PRE, 'nope'), E.NOTCAPABLE);
    fs.writeFileSync(path.join(tmp, 'keep'), '');
    assert.equal(await h.pathCall('path_unlink_file', PRE, 'keep'), E.NOTCAPABLE);
    assert.ok(fs.existsSync(path.join(tmp, 'keep')));
    assert.equal(fs.existsSync(path.join(tmp, 'nope')), false);
  });
});
