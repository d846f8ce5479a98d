// AWS's DynamoDB Local on loopback, for the tests that need "any DynamoDB endpoint": the jar of the npm package
// amplify-dynamodb-simulator@2.9.30 (from node_modules, else from npm's cache, offline), on Java.
//
// Interim: the suite is getting one DynamoDB Local for every test (a vitest globalSetup); until it lands this starts
// its own, behind the same interface (an endpoint URL), so switching is a one-line change in the tests that use it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PROJECT_ROOT } from '../../lib/function';
import { LOCAL_STORE_CLIENT } from '../../lambda/store/local-store';

const PACKAGE = 'amplify-dynamodb-simulator';
const VERSION = '2.9.30';

export interface DynamoDbLocal {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  close(): Promise<void>;
}

/** The folder holding DynamoDBLocal.jar and DynamoDBLocal_lib. */
function emulatorDir(): string {
  const installed = join(PROJECT_ROOT, 'node_modules', PACKAGE, 'emulator');
  if (existsSync(join(installed, 'DynamoDBLocal.jar'))) return installed;
  const unpacked = join(tmpdir(), `regionwatch-${PACKAGE}-${VERSION}`);
  const dir = join(unpacked, 'package', 'emulator');
  if (existsSync(join(dir, 'DynamoDBLocal.jar'))) return dir;
  mkdirSync(unpacked, { recursive: true });
  // npm's cache only: no network.
  const tarball = execFileSync('npm', ['pack', `${PACKAGE}@${VERSION}`, '--offline', '--silent', '--pack-destination', unpacked], { encoding: 'utf8' }).trim().split('\n').pop() ?? '';
  execFileSync('tar', ['xzf', join(unpacked, tarball), '-C', unpacked]);
  return dir;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts DynamoDB Local in memory on a free loopback port and waits until it answers (at most 30 s). */
export async function startDynamoDbLocal(): Promise<DynamoDbLocal> {
  const dir = emulatorDir();
  const port = await freePort();
  const child: ChildProcess = spawn('java', [`-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`, '-jar', join(dir, 'DynamoDBLocal.jar'), '-inMemory', '-port', String(port)], {
    stdio: 'ignore',
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  };
  const client = new DynamoDBClient({ endpoint, ...LOCAL_STORE_CLIENT, maxAttempts: 1 });
  try {
    for (let start = Date.now(); ; ) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with ${child.exitCode}`);
      try {
        await client.send(new ListTablesCommand({}));
        return { endpoint, close };
      } catch (error: unknown) {
        if (Date.now() - start > 30_000) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } catch (error: unknown) {
    await close();
    throw error;
  } finally {
    client.destroy();
  }
}
