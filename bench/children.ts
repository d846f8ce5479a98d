// Child processes of the bench modules: each case in its own process (its own peak RSS, its own CPU), talking over IPC.
import { fork, type ChildProcess } from 'node:child_process';

/** Forks `file` under tsx with `envName` set to `role` (and the platform's port, when there is one). */
export function startChild(file: string, envName: string, role: string, port?: number): ChildProcess {
  return fork(file, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, [envName]: role, ...(port === undefined ? {} : { REGIONWATCH_BENCH_PORT: String(port) }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The child's next IPC message; rejects when it exits first or says nothing within `timeoutMs` (then it is killed). */
export function nextMessage<T>(child: ChildProcess, what: string, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${what} did not report within ${timeoutMs} ms`));
    }, timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with code ${String(code)} before reporting`));
    };
    child.once('message', (message) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve(message as T);
    });
    child.once('exit', onExit);
  });
}
