// The real `cdk` command line, offline: no credentials, no profile, no metadata endpoint, no version check.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/function';

/** Synth must need none of these: they are blanked or pointed at nothing. */
export const OFFLINE_ENV: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: mkdtempSync(join(tmpdir(), 'regionwatch-home-')),
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  AWS_SESSION_TOKEN: '',
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  AWS_EC2_METADATA_DISABLED: 'true',
  CDK_DISABLE_VERSION_CHECK: 'true',
  CI: 'true',
};

export interface CdkResult {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const CDK = join(PROJECT_ROOT, 'node_modules/.bin/cdk');
const FLAGS = ['--no-notices', '--no-version-reporting'];

/** Runs `cdk <args>` from the project root and waits for it (blocking: for a test's own steps). */
export function cdk(args: string[]): CdkResult {
  const started = Date.now();
  const result = spawnSync(CDK, [...args, ...FLAGS], { cwd: PROJECT_ROOT, env: OFFLINE_ENV, encoding: 'utf8', timeout: 170_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, ms: Date.now() - started };
}

/** The same without blocking the event loop (for a synth other work runs beside). */
export function cdkAsync(args: string[]): Promise<CdkResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(CDK, [...args, ...FLAGS], { cwd: PROJECT_ROOT, env: OFFLINE_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: Date.now() - started });
    });
  });
}
