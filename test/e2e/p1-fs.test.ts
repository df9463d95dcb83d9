// The filesystem and stdio part of WASI p1 through the CLI: a C program (wasi-libc) using stdio,
// argv/env and a --dir preopen, and a WAT guest checking exact errnos.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildGuest } from '../support/guests.ts';
import { runToExit, type ExitResult } from '../support/cli.ts';

describe('fs-tool.c via wasinet run --dir', () => {
  let tmp: string;
  let data: string;
  let r: ExitResult;
  let lines: Map<string, string>;

  before(async () => {
    const wasm = await buildGuest('c/fs-tool.c');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-fs-e2e-'));
    data = path.join(tmp, 'data');
    fs.mkdirSync(data);
    fs.writeFileSync(path.join(data, 'in.txt'), 'hello file');
    fs.writeFileSync(path.join(data, 'zz.bin'), '');
    fs.writeFileSync(path.join(tmp, 'outside.txt'), 'secret');
    fs.symlinkSync(path.join(tmp, 'outside.txt'), path.join(data, 'escape-link'));
    r = await runToExit(
      ['--dir', `${data}::/work`, '--env', 'GREETING=hi there', wasm, '/work', '7', 'x y', 'ünï'],
      { stdin: 'from stdin', timeoutMs: 30_000 },
    );
    lines = new Map();
    for (const line of r.stdout.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) lines.set(line.slice(0, i), line.slice(i + 1));
    }
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('exits with the code the program returned', () => {
    assert.equal(r.code, 7, `stderr: ${r.stderr}\nstdout: ${r.stdout}`);
    assert.match(r.stderr, /^done$/m);
  });

  it('sees its argv and only the --env environment', () => {
    assert.equal(lines.get('argc'), '5');
    assert.equal(lines.get('arg[3]'), 'x y');
    assert.equal(lines.get('arg[4]'), 'ünï');
    assert.equal(lines.get('GREETING'), 'hi there');
  });

  it('reads stdin to EOF', () => {
    assert.equal(lines.get('stdin'), '10:from stdin');
  });

  it('reads, creates, appends and lists files in the preopen', () => {
    assert.equal(lines.get('in'), 'hello file');
    assert.equal(lines.get('tell'), '10');
    assert.equal(lines.get('size'), '11');
    assert.equal(fs.readFileSync(path.join(data, 'out', 'copy.txt'), 'utf8'), 'HELLO FILE!');
    assert.equal(lines.get('ls'), 'escape-link,in.txt,out,zz.bin dots=2');
  });

  it('cannot reach outside the preopen, by .. or by symlink', () => {
    assert.equal(lines.get('escape'), 'refused errno=76', 'ENOTCAPABLE');
    assert.equal(lines.get('escape-link'), 'refused errno=76');
    assert.equal(fs.readFileSync(path.join(tmp, 'outside.txt'), 'utf8'), 'secret');
  });
});

describe('fs-errno.wat via wasinet run', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-fs-errno-'));
    fs.mkdirSync(path.join(tmp, 'box'));
    fs.writeFileSync(path.join(tmp, 'box', 'f'), 'abc');
    fs.writeFileSync(path.join(tmp, 'x'), 'outside');
    fs.symlinkSync('../x', path.join(tmp, 'box', 'out'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('passes every errno check (exit 0; 10 + k names the failed check)', async () => {
    const wasm = await buildGuest('wat/fs-errno.wat');
    const r = await runToExit(['--dir', `${path.join(tmp, 'box')}::/sandbox`, wasm], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, `exit ${r.code}: stderr ${r.stderr}`);
  });

  it('without the preopen, fd 3 does not exist and the first check past it fails', async () => {
    const wasm = await buildGuest('wat/fs-errno.wat');
    const r = await runToExit([wasm], { timeoutMs: 20_000 });
    assert.equal(r.code, 12, 'fd_prestat_get(3) is EBADF without --dir');
  });
});
