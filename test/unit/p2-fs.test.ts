// wasi:filesystem, called the way jco calls it: methods of the Descriptor objects that
// preopens.get-directories hands out, errors thrown as error-code strings.
import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { P2Context } from '../../src/wasi/p2/context.ts';
import { filesystemHost } from '../../src/wasi/p2/filesystem/host.ts';
import { Descriptor, descriptorFlags, newFsState, type DescriptorFlags } from '../../src/wasi/p2/filesystem/descriptor.ts';
import type { DirectoryEntryStream } from '../../src/wasi/p2/filesystem/descriptor.ts';
import type { IoError } from '../../src/wasi/p2/io/error.ts';
import type { InputStream, OutputStream } from '../../src/wasi/p2/io/streams.ts';
import type { Network } from '../../src/net/types.ts';

const R: Partial<DescriptorFlags> = { read: true };
const RW: Partial<DescriptorFlags> = { read: true, write: true };
const NOFOLLOW = {};
const FOLLOW = { symlinkFollow: true };

/** Calls fn and returns the error-code string it threw (fails if it returned, or threw an Error). */
function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.equal(typeof e, 'string', `expected an error-code, got ${String(e)}`);
    return e as string;
  }
  assert.fail('expected an error-code, but the call succeeded');
}

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

describe('wasi:filesystem', () => {
  let tmp: string;
  let box: string;
  let ctx: P2Context;
  let host: ReturnType<typeof filesystemHost>;
  let root: Descriptor;

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-p2-fs-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  beforeEach(() => {
    box = fs.mkdtempSync(path.join(tmp, 'box-'));
    fs.writeFileSync(path.join(box, 'hello.txt'), 'hello world');
    fs.mkdirSync(path.join(box, 'sub'));
    fs.writeFileSync(path.join(box, 'sub', 'inner.txt'), 'inner');
    fs.writeFileSync(path.join(tmp, 'secret.txt'), 'secret');
    ctx = new P2Context({ args: [], env: {}, preopens: [{ host: box, guest: '/data' }], network: {} as Network });
    host = filesystemHost(ctx);
    const dirs = (host['wasi:filesystem/preopens']!.getDirectories as () => [Descriptor, string][])();
    assert.equal(dirs.length, 1);
    assert.equal(dirs[0]![1], '/data');
    root = dirs[0]![0];
  });
  afterEach(() => ctx.close());

  it('hands out each preopen as a readable, mutable directory', () => {
    assert.equal(root.getType(), 'directory');
    const flags = root.getFlags();
    assert.equal(flags.read, true);
    assert.equal(flags.mutateDirectory, true);
    assert.equal(flags.write, false);
    assert.equal(root.stat().type, 'directory');
  });

  it('refuses a preopen that is not a directory', () => {
    const c = new P2Context({
      args: [], env: {}, preopens: [{ host: path.join(box, 'hello.txt'), guest: 'x' }], network: {} as Network,
    });
    assert.throws(() => filesystemHost(c), /hello\.txt: not a directory/);
  });

  it('reads a file through read-via-stream, then reports closed', async () => {
    const f = root.openAt(NOFOLLOW, 'hello.txt', {}, R);
    assert.equal(f.getType(), 'regular-file');
    const s: InputStream = f.readViaStream(6n);
    assert.equal(Buffer.from(await s.blockingRead(100n)).toString(), 'world');
    assert.throws(() => s.read(10n), (e: unknown) => (e as { tag: string }).tag === 'closed');
    assert.throws(() => s.read(10n), (e: unknown) => (e as { tag: string }).tag === 'closed');
    s[Symbol.dispose]();
    f[Symbol.dispose]();
  });

  it('writes with write-via-stream at an offset and appends with append-via-stream', async () => {
    const f = root.openAt(NOFOLLOW, 'out.txt', { create: true }, RW);
    const w: OutputStream = f.writeViaStream(2n);
    assert.ok(w.checkWrite() > 0n);
    await w.blockingWriteAndFlush(Buffer.from('abc'));
    w[Symbol.dispose]();
    const a = f.appendViaStream();
    a.write(Buffer.from('XY'));
    a[Symbol.dispose]();
    assert.deepEqual(fs.readFileSync(path.join(box, 'out.txt')), Buffer.from('\0\0abcXY'));
    assert.equal(f.stat().size, 7n);
  });

  it('read and write at offsets, with end-of-file reported on a short read', () => {
    const f = root.openAt(NOFOLLOW, 'hello.txt', {}, RW);
    assert.equal(f.write(Buffer.from('J'), 0n), 1n);
    const [all, eof1] = f.read(5n, 0n);
    assert.equal(Buffer.from(all).toString(), 'Jello');
    assert.equal(eof1, false);
    const [tail, eof2] = f.read(100n, 6n);
    assert.equal(Buffer.from(tail).toString(), 'world');
    assert.equal(eof2, true);
    const [none, eof3] = f.read(10n, 1000n);
    assert.equal(none.length, 0);
    assert.equal(eof3, true);
  });

  it('keeps read-only and write-only descriptors to what they were opened for', () => {
    const r = root.openAt(NOFOLLOW, 'hello.txt', {}, R);
    assert.equal(code(() => r.write(Buffer.from('x'), 0n)), 'bad-descriptor');
    assert.equal(code(() => r.writeViaStream(0n)), 'bad-descriptor');
    assert.equal(code(() => r.setSize(0n)), 'bad-descriptor');
    const w = root.openAt(NOFOLLOW, 'hello.txt', {}, { write: true });
    assert.equal(code(() => w.read(1n, 0n)), 'bad-descriptor');
    assert.equal(code(() => w.readViaStream(0n)), 'bad-descriptor');
    assert.equal(fs.readFileSync(path.join(box, 'hello.txt'), 'utf8'), 'hello world');
  });

  it('maps failures to error-codes', () => {
    assert.equal(code(() => root.openAt(NOFOLLOW, 'missing', {}, R)), 'no-entry');
    assert.equal(code(() => root.openAt(NOFOLLOW, 'hello.txt', { create: true, exclusive: true }, RW)), 'exist');
    assert.equal(code(() => root.openAt(NOFOLLOW, 'sub', {}, RW)), 'is-directory');
    assert.equal(code(() => root.openAt(NOFOLLOW, 'hello.txt', { directory: true }, R)), 'not-directory');
    assert.equal(code(() => root.openAt(NOFOLLOW, 'hello.txt/x', {}, R)), 'not-directory');
    assert.equal(code(() => root.removeDirectoryAt('sub')), 'not-empty');
    assert.equal(code(() => root.unlinkFileAt('sub')), 'is-directory');
    assert.equal(code(() => root.readlinkAt('hello.txt')), 'invalid');
    assert.equal(code(() => root.createDirectoryAt('sub')), 'exist');
    assert.equal(code(() => root.statAt(NOFOLLOW, '')), 'no-entry');
    const f = root.openAt(NOFOLLOW, 'hello.txt', {}, R);
    assert.equal(code(() => f.openAt(NOFOLLOW, 'x', {}, R)), 'not-directory');
    assert.equal(code(() => f.readDirectory()), 'not-directory');
    assert.equal(code(() => root.read(1n, 0n)), 'is-directory');
  });

  it('confines every path to the descriptor: .., absolute paths and symlinks out are not-permitted', () => {
    fs.symlinkSync(path.join(tmp, 'secret.txt'), path.join(box, 'abs-link'));
    fs.symlinkSync('../secret.txt', path.join(box, 'rel-link'));
    fs.symlinkSync('../hello.txt', path.join(box, 'sub', 'up-link'));
    assert.equal(code(() => root.openAt(NOFOLLOW, '../secret.txt', {}, R)), 'not-permitted');
    assert.equal(code(() => root.openAt(NOFOLLOW, 'sub/../../secret.txt', {}, R)), 'not-permitted');
    assert.equal(code(() => root.openAt(NOFOLLOW, `${tmp}/secret.txt`, {}, R)), 'not-permitted');
    assert.equal(code(() => root.openAt(FOLLOW, 'abs-link', {}, R)), 'not-permitted');
    assert.equal(code(() => root.openAt(FOLLOW, 'rel-link', {}, R)), 'not-permitted');
    assert.equal(code(() => root.statAt(FOLLOW, 'rel-link')), 'not-permitted');
    assert.equal(code(() => root.createDirectoryAt('../evil')), 'not-permitted');
    assert.equal(code(() => root.symlinkAt('../secret.txt', 'plant')), 'not-permitted');
    assert.equal(code(() => root.symlinkAt('/etc/passwd', 'plant')), 'not-permitted');
    assert.equal(code(() => root.renameAt('hello.txt', root, '../moved.txt')), 'not-permitted');
    // A directory opened under the preopen is a sandbox of its own, even toward its parent.
    const sub = root.openAt(NOFOLLOW, 'sub', { directory: true }, R);
    assert.equal(code(() => sub.openAt(NOFOLLOW, '../hello.txt', {}, R)), 'not-permitted');
    assert.equal(code(() => sub.openAt(FOLLOW, 'up-link', {}, R)), 'not-permitted');
    assert.equal(Buffer.from(sub.openAt(NOFOLLOW, 'inner.txt', {}, R).read(10n, 0n)[0]).toString(), 'inner');
    // Nothing was created outside, and the secret is intact.
    assert.equal(fs.existsSync(path.join(tmp, 'evil')), false);
    assert.equal(fs.existsSync(path.join(tmp, 'moved.txt')), false);
    assert.equal(fs.readFileSync(path.join(tmp, 'secret.txt'), 'utf8'), 'secret');
  });

  it('a final symlink is opened only when followed, and loops end in loop', () => {
    fs.symlinkSync('hello.txt', path.join(box, 'link'));
    fs.symlinkSync('loop-b', path.join(box, 'loop-a'));
    fs.symlinkSync('loop-a', path.join(box, 'loop-b'));
    assert.equal(code(() => root.openAt(NOFOLLOW, 'link', {}, R)), 'loop');
    assert.equal(Buffer.from(root.openAt(FOLLOW, 'link', {}, R).read(5n, 0n)[0]).toString(), 'hello');
    assert.equal(root.statAt(NOFOLLOW, 'link').type, 'symbolic-link');
    assert.equal(root.statAt(FOLLOW, 'link').type, 'regular-file');
    assert.equal(root.readlinkAt('link'), 'hello.txt');
    assert.equal(code(() => root.openAt(FOLLOW, 'loop-a', {}, R)), 'loop');
  });

  it('creates, links, renames, removes', () => {
    root.createDirectoryAt('made');
    assert.ok(fs.statSync(path.join(box, 'made')).isDirectory());
    root.linkAt(NOFOLLOW, 'hello.txt', root, 'made/hard');
    assert.equal(root.statAt(NOFOLLOW, 'hello.txt').linkCount, 2n);
    root.renameAt('made/hard', root, 'moved');
    assert.equal(fs.readFileSync(path.join(box, 'moved'), 'utf8'), 'hello world');
    root.symlinkAt('moved', 'sym');
    assert.equal(fs.readlinkSync(path.join(box, 'sym')), 'moved');
    root.unlinkFileAt('sym');
    root.unlinkFileAt('moved');
    root.removeDirectoryAt('made');
    assert.deepEqual(fs.readdirSync(box).sort(), ['hello.txt', 'sub']);
  });

  it('lists a directory without . and .., with types', () => {
    fs.symlinkSync('hello.txt', path.join(box, 'link'));
    const s: DirectoryEntryStream = root.readDirectory();
    const got: string[] = [];
    for (let e = s.readDirectoryEntry(); e; e = s.readDirectoryEntry()) got.push(`${e.name}:${e.type}`);
    assert.deepEqual(got.sort(), ['hello.txt:regular-file', 'link:symbolic-link', 'sub:directory']);
    assert.equal(s.readDirectoryEntry(), undefined);
  });

  it('sets and reads back times with nanosecond precision', () => {
    const ts = { seconds: 1_600_000_000n, nanoseconds: 123_456_789 };
    root.setTimesAt(NOFOLLOW, 'hello.txt', { tag: 'timestamp', val: ts }, { tag: 'no-change' });
    const st = root.statAt(NOFOLLOW, 'hello.txt');
    assert.deepEqual(st.dataAccessTimestamp, ts);
    const f = root.openAt(NOFOLLOW, 'hello.txt', {}, RW);
    f.setTimes({ tag: 'no-change' }, { tag: 'timestamp', val: { seconds: 1_500_000_000n, nanoseconds: 7 } });
    const st2 = f.stat();
    assert.deepEqual(st2.dataModificationTimestamp, { seconds: 1_500_000_000n, nanoseconds: 7 });
    assert.deepEqual(st2.dataAccessTimestamp, ts);
    assert.equal(code(() => f.setTimes({ tag: 'timestamp', val: { seconds: 1n, nanoseconds: 1e9 } }, { tag: 'now' })), 'invalid');
  });

  it('metadata hashes and is-same-object identify files', () => {
    const a = root.openAt(NOFOLLOW, 'hello.txt', {}, R);
    const b = root.openAt(NOFOLLOW, 'hello.txt', {}, R);
    const c = root.openAt(NOFOLLOW, 'sub/inner.txt', {}, R);
    assert.deepEqual(a.metadataHash(), b.metadataHash());
    assert.deepEqual(a.metadataHash(), root.metadataHashAt(NOFOLLOW, 'hello.txt'));
    assert.notDeepEqual(a.metadataHash(), c.metadataHash());
    assert.equal(a.isSameObject(b), true);
    assert.equal(a.isSameObject(c), false);
    // not the inode number itself
    assert.notEqual(a.metadataHash().lower, fs.statSync(path.join(box, 'hello.txt'), { bigint: true }).ino);
  });

  it('a failed file stream carries its error-code for filesystem-error-code', async () => {
    const f = root.openAt(NOFOLLOW, 'out.bin', { create: true }, RW);
    const w = f.writeViaStream(1n << 60n); // beyond what the host can address
    let err: unknown;
    try {
      await w.blockingWriteAndFlush(Buffer.from('x'));
    } catch (e) {
      err = e;
    }
    const se = err as { tag: string; val: IoError };
    assert.equal(se.tag, 'last-operation-failed');
    const errorCode = host['wasi:filesystem/types']!.filesystemErrorCode as (e: IoError) => string | undefined;
    assert.equal(errorCode(se.val), 'file-too-large');
  });

  it('set-size truncates and extends', () => {
    const f = root.openAt(NOFOLLOW, 'hello.txt', {}, RW);
    f.setSize(5n);
    assert.equal(fs.readFileSync(path.join(box, 'hello.txt'), 'utf8'), 'hello');
    f.setSize(7n);
    assert.equal(f.stat().size, 7n);
    f.syncData();
    f.sync();
    root.sync();
  });

  it('a directory without mutate-directory cannot be changed through', () => {
    // Only reachable for embedders today (preopens are mutable), but the check must hold.
    const ro = Descriptor.directory(newFsState(), box, descriptorFlags({ read: true }));
    assert.equal(code(() => ro.createDirectoryAt('x')), 'not-permitted');
    assert.equal(code(() => ro.openAt(NOFOLLOW, 'new', { create: true }, RW)), 'not-permitted');
    assert.equal(code(() => ro.unlinkFileAt('hello.txt')), 'not-permitted');
    const f = ro.openAt(NOFOLLOW, 'hello.txt', {}, R);
    assert.equal(Buffer.from(f.read(5n, 0n)[0]).toString(), 'hello');
    f[Symbol.dispose]();
  });

  it('closes the files a guest left open when the instance ends', async () => {
    const before = openFds();
    const a = root.openAt(NOFOLLOW, 'hello.txt', {}, R);
    root.openAt(NOFOLLOW, 'sub/inner.txt', {}, R);
    const s = a.readViaStream(0n);
    a[Symbol.dispose](); // the stream still holds the file
    assert.equal(Buffer.from(s.read(5n)).toString(), 'hello');
    assert.equal(openFds(), before + 2);
    await ctx.close();
    assert.equal(openFds(), before);
  });
});
