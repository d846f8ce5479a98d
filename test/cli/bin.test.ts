// The package bin as a user runs it: the AWS SDK's Node-version notice is turned off for every command, in one place.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin/regionwatch.js');

/** The environment without AWS credentials or the notice's variable; no instance metadata lookups (loopback only). */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'regionwatch-bin-'));
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  return {
    ...clean,
    HOME: home,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(home, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
    ...extra,
  };
}

async function cli(args: string[], extra?: Record<string, string>): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [bin, ...args], { cwd: root, timeout: 20_000, env: env(extra) });
    return { code: 0, stderr };
  } catch (error: unknown) {
    const e = error as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? '' };
  }
}

describe('regionwatch bin', () => {
  it('builds an AWS SDK client without the SDK printing its Node-version notice', async () => {
    // `status --aws` creates a DynamoDB client, then finds no credentials: one line, a failure exit.
    const { code, stderr } = await cli(['status', '--aws', '--region', 'us-east-1']);
    expect(code).toBe(1);
    expect(stderr).toContain('no AWS credentials found for region us-east-1');
    expect(stderr).not.toContain('NodeVersionSupportWarning');
  });

  it('leaves an explicit setting of the variable alone', async () => {
    const { stderr } = await cli(['status', '--aws', '--region', 'us-east-1'], { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' });
    // The SDK only warns below Node 22.
    const major = Number(process.versions.node.split('.')[0]);
    if (major < 22) expect(stderr).toContain('NodeVersionSupportWarning');
    else expect(stderr).not.toContain('NodeVersionSupportWarning');
  });
});
