// AWS's DynamoDB Local, the store of the test suite: fetched once through npm (pinned and checksummed), started
// once per test run by the global setup (test/helpers/global-setup.ts), one database per test file.
//
// The jar ships in the npm package amplify-dynamodb-simulator under emulator/. The package itself is never
// installed: its dependencies (the Amplify CLI core, a second aws-cdk-lib) would come with it. Instead `npm pack`
// fetches the one pinned tarball through the registry config and npm's cache, its sha512 is checked against the
// pin, the jar's sha256 too, and only emulator/ is kept, in the user's cache directory (`npm ci` would throw a copy
// under node_modules away on every CI run); the jar's sha256 is checked again on every use.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freeTcpPort } from './daemon';

export const DYNAMODB_LOCAL = {
  version: '1.25.1',
  npmPackage: 'amplify-dynamodb-simulator@2.9.30',
  /** `dist.integrity` of the package on the registry. */
  tarballIntegrity: 'sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ==',
  /** sha256 of emulator/DynamoDBLocal.jar inside it. */
  jarSha256: '454305e9bc3e6ebcca5b62569869e31563b8d7e346474e94557b2600702146c7',
  minimumJava: 17,
} as const;

/** A missing prerequisite (Java, the jar): its message is the one line that says what to install. */
export class TestStorePrerequisiteError extends Error {
  override readonly name = 'TestStorePrerequisiteError';
  constructor(message: string) {
    super(message);
    // One line in vitest's output, not a stack into this file.
    this.stack = `${this.name}: ${message}`;
  }
}

const CACHE_ROOT = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'regionwatch', 'dynamodb-local');

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Runs npm as the current npm does (npm test sets npm_execpath), else the one on PATH. */
function npm(args: string[], cwd: string) {
  const execPath = process.env.npm_execpath;
  const [command, prefix] = execPath && execPath.endsWith('.js') ? [process.execPath, [execPath]] : ['npm', []];
  return spawnSync(command, [...prefix, ...args], { cwd, encoding: 'utf8', timeout: 180_000 });
}

/**
 * The emulator directory (DynamoDBLocal.jar and DynamoDBLocal_lib/), fetching and checking it on first use.
 * A cached copy is trusted only while its jar still has the pinned sha256.
 */
export function ensureDynamoDbLocal(): string {
  const dir = join(CACHE_ROOT, DYNAMODB_LOCAL.version);
  const jar = join(dir, 'DynamoDBLocal.jar');
  if (existsSync(jar) && sha256(jar) === DYNAMODB_LOCAL.jarSha256) return dir;
  mkdirSync(CACHE_ROOT, { recursive: true });
  const work = mkdtempSync(join(CACHE_ROOT, 'fetch-'));
  try {
    const packed = npm(['pack', DYNAMODB_LOCAL.npmPackage, '--prefer-offline', '--json', '--pack-destination', work], work);
    if (packed.status !== 0) {
      const reason = (packed.error?.message ?? packed.stderr).trim().split('\n').pop() ?? '';
      throw new TestStorePrerequisiteError(
        `could not fetch DynamoDB Local ${DYNAMODB_LOCAL.version} (npm pack ${DYNAMODB_LOCAL.npmPackage} failed: ${reason}); the npm registry must be reachable once, after that npm's cache serves it`,
      );
    }
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    const tarball = join(work, filename);
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (integrity !== DYNAMODB_LOCAL.tarballIntegrity) {
      throw new TestStorePrerequisiteError(`${DYNAMODB_LOCAL.npmPackage} does not match its pinned integrity (got ${integrity}); refusing to run it`);
    }
    const untarred = spawnSync('tar', ['-xzf', tarball, '-C', work, 'package/emulator'], { encoding: 'utf8' });
    if (untarred.status !== 0) throw new TestStorePrerequisiteError(`could not unpack ${filename}: ${(untarred.error?.message ?? untarred.stderr).trim()} (is tar installed?)`);
    const emulator = join(work, 'package', 'emulator');
    const got = sha256(join(emulator, 'DynamoDBLocal.jar'));
    if (got !== DYNAMODB_LOCAL.jarSha256) throw new TestStorePrerequisiteError(`DynamoDBLocal.jar in ${filename} has sha256 ${got}, not the pinned one; refusing to run it`);
    // Another run may have put a good copy there meanwhile (two checkouts share the cache): keep it, and never
    // remove a copy that checks out, since a running DynamoDB Local may be using it.
    if (existsSync(jar) && sha256(jar) === DYNAMODB_LOCAL.jarSha256) return dir;
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(emulator, dir);
    } catch (error: unknown) {
      if (!(existsSync(jar) && sha256(jar) === DYNAMODB_LOCAL.jarSha256)) throw error;
    }
    return dir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Fails with one line naming the package to install when there is no Java 17 or newer. */
export function requireJava(): void {
  const fix = `install Java ${DYNAMODB_LOCAL.minimumJava} or newer (Debian/Ubuntu: apt-get install openjdk-17-jre-headless), then run npm test again`;
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new TestStorePrerequisiteError(`the tests run on DynamoDB Local, which needs Java, and there is no working \`java\` on PATH: ${fix}`);
  const major = Number(/version "(?:1\.)?(\d+)/.exec(probe.stderr)?.[1]);
  if (!(major >= DYNAMODB_LOCAL.minimumJava)) throw new TestStorePrerequisiteError(`the tests run on DynamoDB Local, which needs Java ${DYNAMODB_LOCAL.minimumJava}, and \`java\` is version ${major || 'unknown'}: ${fix}`);
}

/** One unsigned ListTables: DynamoDB Local answers it once it serves requests (it reads, never checks, the signature). */
async function answers(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        authorization: 'AWS4-HMAC-SHA256 Credential=readiness/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
      signal: AbortSignal.timeout(2_000),
    });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

export interface DynamoDbLocalServer {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local in memory on a free loopback port with streams on (they are per table), telemetry off,
 * one database per access key id and region (no -sharedDb). Resolves once it answers.
 */
export async function startDynamoDbLocal(): Promise<DynamoDbLocalServer> {
  requireJava();
  const dir = ensureDynamoDbLocal();
  for (let attempt = 1; ; attempt++) {
    const port = await freeTcpPort();
    const endpoint = `http://127.0.0.1:${port}`;
    // Serial GC and the client compiler: on two shared cores a short-lived test server starts faster and leaves
    // more CPU to the tests than the server defaults would.
    const child: ChildProcess = spawn(
      'java',
      ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xmx768m', `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`, '-jar', join(dir, 'DynamoDBLocal.jar'), '-inMemory', '-port', String(port), '-disableTelemetry'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let exited = false;
    child.once('exit', () => (exited = true));
    const deadline = Date.now() + 60_000;
    while (!exited && Date.now() < deadline && !(await answers(endpoint))) await delay(100);
    if (!exited && Date.now() < deadline) {
      return {
        endpoint,
        stop: async () => {
          if (exited) return;
          const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await gone;
          clearTimeout(timer);
        },
      };
    }
    child.kill('SIGKILL');
    // Another process may have taken the port between the probe and the bind: try another one, twice.
    if (attempt < 3 && /BindException|Address already in use/.test(output)) continue;
    const last = output.trim().split('\n').filter(Boolean).slice(-3).join(' / ');
    throw new TestStorePrerequisiteError(`DynamoDB Local ${DYNAMODB_LOCAL.version} did not start on port ${port}${exited ? '' : ' within 60 s'}: ${last || 'no output'}`);
  }
}
