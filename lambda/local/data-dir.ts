// The local data directory: the embedded store, the notifications log, the config local mode last ran with, and a lock.
//
// <data-dir>/
//   store/                 dynalite's LevelDB files (results and incident tables)
//   notifications.jsonl    every notification, one SNS body per line
//   run.json               the config and clock of the last run, so status/incidents/report need no --config
//   regionwatch.lock       the pid of the run using the directory
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RegionwatchConfig } from '../config/schema';
import type { StoreRecord } from '../store/local-store';

export const DEFAULT_DATA_DIR = '.regionwatch';

export const DATA_DIR_FILES = {
  store: 'store',
  notifications: 'notifications.jsonl',
  runInfo: 'run.json',
  lock: 'regionwatch.lock',
} as const;

/** The data directory cannot be used: not writable, not a directory, or in use by another run. */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

export interface DataDir {
  path: string;
  storePath: string;
  notificationsPath: string;
  runInfoPath: string;
  /** Releases the lock. */
  release(): void;
}

/** What local mode records about its run, for the commands that read the directory afterwards. */
export interface RunInfo {
  /** The validated config the run used. */
  config: RegionwatchConfig;
  /** Clock speed: 1 for `local`, N for the demo. */
  speed: number;
  /** Clock times (ISO) the run started and last finished a slot. */
  startedAt: string;
  lastSlotAt?: string;
  /** The demo's report period, so `report` without flags covers the scenario. */
  period?: { from: string; to: string };
  /** Clock spans local mode has watched (ISO, oldest first): history outside them is "no data", not "up". */
  observed?: { from: string; to: string }[];
  /** Where the tables were, when not the embedded store under `store/` (`local --endpoint URL`, `local --aws`). */
  store?: StoreRecord;
  /** While a run is going: how the read commands reach its store (LevelDB admits one process at a time); no endpoint on AWS. */
  live?: { pid: number; storeEndpoint?: string; statusUrl: string };
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOTDIR':
      return 'a part of the path is a file, not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'the disk is full';
    case 'EEXIST':
      return 'it exists and is not a directory';
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}

/** Whether a process with this pid exists (EPERM: it does, under another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: unknown) {
    return (error as NodeJS.ErrnoException | undefined)?.code === 'EPERM';
  }
}

/**
 * Creates the directory if needed, proves it is writable, and takes its lock. Two runs over one
 * directory would corrupt the store, so the second is refused with the first one's pid.
 */
export function openDataDir(dir: string, cwd = process.cwd()): DataDir {
  const path = resolve(cwd, dir);
  const unwritable = (error: unknown) =>
    new DataDirError(`data directory ${path} is not writable (${reason(error)}); pass --data-dir with a directory you can write to`);
  try {
    mkdirSync(join(path, DATA_DIR_FILES.store), { recursive: true });
    const probe = join(path, `.write-check-${process.pid}`);
    writeFileSync(probe, 'ok');
    rmSync(probe, { force: true });
  } catch (error: unknown) {
    throw unwritable(error);
  }
  const lockPath = join(path, DATA_DIR_FILES.lock);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException | undefined)?.code !== 'EEXIST') throw unwritable(error);
      const holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw new DataDirError(`data directory ${path} is in use by another regionwatch run (pid ${holder}); stop it or pass another --data-dir`);
      }
      if (attempt > 0) throw new DataDirError(`data directory ${path} is locked (${lockPath}); remove the lock file if no regionwatch run is using it`);
      // A run that died without releasing: the lock is stale.
      rmSync(lockPath, { force: true });
    }
  }
  let released = false;
  return {
    path,
    storePath: join(path, DATA_DIR_FILES.store),
    notificationsPath: join(path, DATA_DIR_FILES.notifications),
    runInfoPath: join(path, DATA_DIR_FILES.runInfo),
    release: () => {
      if (released) return;
      released = true;
      rmSync(lockPath, { force: true });
    },
  };
}

export function writeRunInfo(dir: DataDir, info: RunInfo): void {
  writeFileSync(dir.runInfoPath, `${JSON.stringify(info, null, 2)}\n`);
}

/** The run info of a data directory, or undefined when local mode never ran there. */
export function readRunInfo(dir: string, cwd = process.cwd()): RunInfo | undefined {
  const file = join(resolve(cwd, dir), DATA_DIR_FILES.runInfo);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunInfo;
  } catch {
    return undefined;
  }
}

/** True when the directory holds a store local mode wrote. */
export function hasStore(dir: string, cwd = process.cwd()): boolean {
  return existsSync(join(resolve(cwd, dir), DATA_DIR_FILES.store, 'CURRENT'));
}

/** Most observed spans kept in run.json; older ones merge into their neighbour. */
const MAX_OBSERVED_SPANS = 200;

/** Adds [fromMs, toMs) to the observed spans, merging it with the last span when they touch. */
export function addObserved(spans: readonly { from: string; to: string }[], fromMs: number, toMs: number, slackMs: number): { from: string; to: string }[] {
  const out = spans.map((s) => ({ ...s }));
  const last = out[out.length - 1];
  if (last && fromMs <= Date.parse(last.to) + slackMs && fromMs >= Date.parse(last.from)) {
    last.to = new Date(Math.max(Date.parse(last.to), toMs)).toISOString();
  } else {
    out.push({ from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() });
  }
  while (out.length > MAX_OBSERVED_SPANS) {
    const [first, second] = out;
    if (!first || !second) break;
    out.splice(0, 2, { from: first.from, to: second.to });
  }
  return out;
}
