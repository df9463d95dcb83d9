// Path resolution and confinement: nothing a guest path (or a symlink it meets) says may reach
// outside the directory fd it is resolved against.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { E, FT, OFLAGS, PRE, R, WILD, harness, tempDir, type Harness } from './p1-fs-harness.ts';

describe('p1 path confinement', () => {
  let tmp: string;
  let box: string;
  let h: Harness;

  before(async () => {
    tmp = tempDir();
    box = path.join(tmp, 'box');
    fs.mkdirSync(path.join(box, 'sub', 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'secret.txt'), 'outside');
    fs.writeFileSync(path.join(box, 'inside.txt'), 'inside');
    fs.symlinkSync('../secret.txt', path.join(box, 'rel-escape'));
    fs.symlinkSync(path.join(tmp, 'secret.txt'), path.join(box, 'abs-escape'));
    fs.symlinkSync(path.join(box, 'inside.txt'), path.join(box, 'abs-inside'));
    fs.symlinkSync('..', path.join(box, 'up'));
    fs.symlinkSync('../inside.txt', path.join(box, 'sub', 'to-inside'));
    fs.symlinkSync('loop-b', path.join(box, 'loop-a'));
    fs.symlinkSync('loop-a', path.join(box, 'loop-b'));
    fs.symlinkSync('sub', path.join(box, 'sublink'));
    h = await harness({ preopens: [{ host: box, guest: '/box' }] });
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const opens = async (p: string, opts = {}) => (await h.open(PRE, p, opts))[0];

  it('opens plain relative paths, with . and .. that stay inside', async () => {
    assert.equal(await opens('inside.txt'), E.SUCCESS);
    assert.equal(await opens('sub/../inside.txt'), E.SUCCESS);
    assert.equal(await opens('./sub/./deeper/../../inside.txt'), E.SUCCESS);
    const [rc, fd] = await h.open(PRE, 'sub//deeper/..//..//inside.txt');
    assert.equal(rc, E.SUCCESS);
    assert.deepEqual(await h.read(fd, 100), [E.SUCCESS, 'inside']);
  });

  it('refuses absolute paths', async () => {
    assert.equal(await opens('/inside.txt'), E.NOTCAPABLE);
    assert.equal(await opens(path.join(tmp, 'secret.txt')), E.NOTCAPABLE);
    assert.equal((await h.pathStat(PRE, '/'))[0], E.NOTCAPABLE);
  });

  it('refuses .. above the directory fd', async () => {
    assert.equal(await opens('../secret.txt'), E.NOTCAPABLE);
    assert.equal(await opens('..'), E.NOTCAPABLE);
    assert.equal(await opens('sub/../../secret.txt'), E.NOTCAPABLE);
    assert.equal(await opens('sub/deeper/../../../box/inside.txt'), E.NOTCAPABLE);
    assert.equal((await h.pathStat(PRE, '../secret.txt'))[0], E.NOTCAPABLE);
  });

  it('treats each directory fd as its own sandbox', async () => {
    const all = 0x3fffffffn & ~R.FD_WRITE;
    const [rc, sub] = await h.open(PRE, 'sub', { oflags: OFLAGS.DIRECTORY, base: all, inheriting: all | R.FD_WRITE });
    assert.equal(rc, E.SUCCESS);
    assert.equal((await h.open(sub, 'deeper/..', { base: 0n }))[0], E.SUCCESS);
    assert.equal((await h.open(sub, '../inside.txt'))[0], E.NOTCAPABLE, 'inside the preopen, but above the fd');
    assert.equal((await h.open(sub, 'to-inside'))[0], E.NOTCAPABLE, 'a symlink leading above the fd');
    assert.equal((await h.open(PRE, 'sub/to-inside'))[0], E.SUCCESS, 'the same symlink from the preopen');
  });

  it('refuses symlinks whose target escapes, relative or absolute', async () => {
    assert.equal(await opens('rel-escape'), E.NOTCAPABLE);
    assert.equal(await opens('abs-escape'), E.NOTCAPABLE);
    assert.equal(await opens('abs-inside'), E.NOTCAPABLE, 'absolute targets are refused even when they point inside');
    assert.equal(await opens('up/secret.txt'), E.NOTCAPABLE, 'an intermediate symlink to ..');
    assert.equal(await opens('up/box/inside.txt'), E.NOTCAPABLE);
    assert.equal((await h.pathStat(PRE, 'rel-escape', true))[0], E.NOTCAPABLE);
    assert.equal(fs.readFileSync(path.join(tmp, 'secret.txt'), 'utf8'), 'outside');
  });

  it('does not follow a final symlink without SYMLINK_FOLLOW', async () => {
    const [rc, st] = await h.pathStat(PRE, 'abs-escape', false);
    assert.equal(rc, E.SUCCESS, 'lstat of the link itself is fine');
    assert.equal(st.filetype, FT.SYMLINK);
    assert.equal(await opens('abs-escape', { follow: false }), E.LOOP);
    assert.equal(await opens('sub/to-inside', { follow: false }), E.LOOP);
    assert.equal(await opens('sublink', { follow: false, oflags: OFLAGS.DIRECTORY }), E.LOOP);
  });

  it('follows symlinks in intermediate components always', async () => {
    const [rc, st] = await h.pathStat(PRE, 'sublink/deeper', false);
    assert.equal(rc, E.SUCCESS);
    assert.equal(st.filetype, FT.DIR);
    assert.equal(await opens('sublink/to-inside'), E.SUCCESS);
  });

  it('bounds symlink expansion with ELOOP', async () => {
    assert.equal(await opens('loop-a'), E.LOOP);
    assert.equal(await opens('loop-a/x'), E.LOOP);
  });

  it('requires a directory for a trailing slash', async () => {
    assert.equal(await opens('inside.txt/'), E.NOTDIR);
    assert.equal((await h.pathStat(PRE, 'inside.txt/'))[0], E.NOTDIR);
    assert.equal(await opens('sub/', { oflags: 0, base: 0n }), E.SUCCESS);
    assert.equal(await opens('sublink/', { follow: false, base: 0n }), E.SUCCESS, 'a trailing slash follows the link');
    assert.equal(await opens('new/', { oflags: OFLAGS.CREAT }), E.ISDIR);
  });

  it('rejects NUL bytes and invalid UTF-8 in paths', async () => {
    assert.equal(await opens('inside.txt\0'), E.INVAL);
    const [pp, pl] = h.put(new Uint8Array([0x69, 0xff, 0x6e]));
    const out = h.alloc(4);
    assert.equal(await h.call('path_open', PRE, 1, pp, pl, 0, 0n, 0n, 0, out), E.ILSEQ);
    assert.equal(await opens(''), E.NOENT);
  });

  it('gives EFAULT for a path or result pointer outside memory, before touching the host', async () => {
    const out = h.alloc(4);
    assert.equal(await h.call('path_open', PRE, 1, WILD, 10, 0, 0n, 0n, 0, out), E.FAULT);
    assert.equal(await h.call('path_open', PRE, 1, 100, 0x7fffffff, 0, 0n, 0n, 0, out), E.FAULT);
    const [pp, pl] = h.put('created-by-fault');
    assert.equal(await h.call('path_open', PRE, 1, pp, pl, OFLAGS.CREAT, 0n, 0n, 0, WILD), E.FAULT);
    assert.equal(fs.existsSync(path.join(box, 'created-by-fault')), false, 'no file was created');
    assert.equal(await h.call('path_create_directory', PRE, WILD, 4), E.FAULT);
  });

  it('gives ENOTDIR for a path relative to a non-directory fd, EBADF for a closed one', async () => {
    assert.equal((await h.open(1, 'inside.txt'))[0], E.NOTDIR);
    const [, file] = await h.open(PRE, 'inside.txt');
    assert.equal((await h.open(file, 'x'))[0], E.NOTDIR);
    assert.equal((await h.open(77, 'x'))[0], E.BADF);
    assert.equal(await h.pathCall('path_unlink_file', 1, 'x'), E.NOTDIR);
  });

  it('confines the targets of rename, link, symlink, unlink and mkdir', async () => {
    fs.writeFileSync(path.join(box, 'victim'), 'v');
    const [a, al] = h.put('victim');
    const [b, bl] = h.put('../stolen');
    assert.equal(await h.call('path_rename', PRE, a, al, PRE, b, bl), E.NOTCAPABLE);
    assert.equal(await h.call('path_link', PRE, 0, a, al, PRE, b, bl), E.NOTCAPABLE);
    assert.equal(await h.call('path_rename', PRE, b, bl, PRE, a, al), E.NOTCAPABLE);
    assert.equal(fs.existsSync(path.join(tmp, 'stolen')), false);
    assert.equal(await h.pathCall('path_unlink_file', PRE, '../secret.txt'), E.NOTCAPABLE);
    assert.equal(await h.pathCall('path_create_directory', PRE, '../newdir'), E.NOTCAPABLE);
    assert.equal(await h.pathCall('path_remove_directory', PRE, '.'), E.INVAL);
    assert.ok(fs.existsSync(path.join(tmp, 'secret.txt')));
    assert.ok(fs.existsSync(box));
  });

  it('refuses to create symlinks that point outside', async () => {
    const mk = async (target: string, name: string) => {
      const [t, tl] = h.put(target);
      const [n, nl] = h.put(name);
      return h.call('path_symlink', t, tl, PRE, n, nl);
    };
    assert.equal(await mk('/etc/passwd', 'l1'), E.NOTCAPABLE);
    assert.equal(await mk('../secret.txt', 'l2'), E.NOTCAPABLE);
    assert.equal(await mk('sub/../../secret.txt', 'l3'), E.NOTCAPABLE);
    assert.equal(await mk('../inside.txt', 'sub/l4'), E.SUCCESS, 'stays inside: fine');
    assert.equal(fs.readlinkSync(path.join(box, 'sub', 'l4')), '../inside.txt');
    for (const n of ['l1', 'l2', 'l3']) assert.equal(fs.existsSync(path.join(box, n)), false);
  });

  it('reads links with path_readlink (truncating like readlink(2))', async () => {
    const [pp, pl] = h.put('sub/to-inside');
    const buf = h.alloc(64);
    const used = h.alloc(4);
    assert.equal(await h.call('path_readlink', PRE, pp, pl, buf, 64, used), E.SUCCESS);
    assert.equal(h.str(buf, h.u32(used)), '../inside.txt');
    assert.equal(await h.call('path_readlink', PRE, pp, pl, buf, 5, used), E.SUCCESS);
    assert.equal(h.u32(used), 5);
    const [fp, fl] = h.put('inside.txt');
    assert.equal(await h.call('path_readlink', PRE, fp, fl, buf, 64, used), E.INVAL, 'not a symlink');
  });
});
