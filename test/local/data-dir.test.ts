import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirError, isAlive, openDataDir } from '../../lambda/local/data-dir';

describe('the local data directory', () => {
  const made: string[] = [];
  const temp = () => {
    const dir = mkdtempSync(join(tmpdir(), 'regionwatch-datadir-'));
    made.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('is created with its store directory and locked while in use', () => {
    const path = join(temp(), 'nested', 'data');
    const dir = openDataDir(path);
    expect(dir.storePath).toBe(join(path, 'store'));
    expect(() => openDataDir(path)).not.toThrow(); // the same process may reopen (a restart in tests)
    dir.release();
  });

  it('refuses a second run while the first one holds it', () => {
    const path = temp();
    writeFileSync(join(path, 'regionwatch.lock'), String(process.ppid));
    expect(() => openDataDir(path)).toThrow(
      new DataDirError(`data directory ${path} is in use by another regionwatch run (pid ${process.ppid}); stop it or pass another --data-dir`),
    );
  });

  it('takes over the lock of a run that died', () => {
    const path = temp();
    writeFileSync(join(path, 'regionwatch.lock'), '999999999');
    const dir = openDataDir(path);
    dir.release();
  });

  it('names a path that cannot be a directory, even for root', () => {
    const file = join(temp(), 'a-file');
    writeFileSync(file, 'not a directory');
    const path = join(file, 'data');
    expect(() => openDataDir(path)).toThrow(
      new DataDirError(`data directory ${path} is not writable (a part of the path is a file, not a directory); pass --data-dir with a directory you can write to`),
    );
  });

  it('tells a live pid (a lock holder, a running local mode) from one that has exited', () => {
    expect(isAlive(process.pid)).toBe(true);
    const exited = spawnSync(process.execPath, ['-e', '']).pid;
    expect(exited).toBeGreaterThan(0);
    expect(isAlive(exited)).toBe(false);
  });
});
