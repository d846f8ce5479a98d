// Each handler bundled with lib/function.ts's esbuild settings: within the 500 KB budget, and the credential
// providers Lambda never reaches are left out yet only ever imported lazily, so the bundle still loads.
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { PROJECT_ROOT, UNREACHED_CREDENTIAL_PROVIDERS, bundlingOptions, handlerEntry } from '../../lib/function';
import { exampleConfig } from './synth';

const BUDGET_BYTES = 500 * 1024;

async function bundle(entry: string): Promise<string> {
  const options = bundlingOptions(exampleConfig());
  const result = await build({
    entryPoints: [handlerEntry(entry)],
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: options.target,
    minify: options.minify,
    mainFields: options.mainFields,
    external: options.externalModules,
    banner: { js: options.banner ?? '' },
    write: false,
    outfile: 'index.mjs',
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error(`no output for ${entry}`);
  return output.text;
}

describe('handler bundles', () => {
  it('leaves out exactly the credential providers Lambda never reaches, with their subpaths', () => {
    expect(bundlingOptions(exampleConfig()).externalModules).toEqual(UNREACHED_CREDENTIAL_PROVIDERS.flatMap((name) => [name, `${name}/*`]));
  });

  it.each([
    'lambda/handlers/aggregator.ts',
    'lambda/handlers/slack-notifier.ts',
    'lambda/handlers/prober.ts',
    'lambda/handlers/pagerduty-notifier.ts',
    'lambda/handlers/webhook-notifier.ts',
    'lambda/handlers/status-renderer.ts',
  ])(
    '%s stays within 500 KB and imports a left-out provider only lazily',
    async (entry) => {
      const code = await bundle(entry);
      expect(Buffer.byteLength(code)).toBeLessThanOrEqual(BUDGET_BYTES);
      for (const name of UNREACHED_CREDENTIAL_PROVIDERS) {
        // A static import would fail the cold start; a dynamic one is reached only after the environment provider failed.
        expect(code).not.toMatch(new RegExp(`(from|import)\\s*"${name.replace('/', '\\/')}`));
      }
      expect(code).toContain('import("@aws-sdk/credential-provider-sso")');
    },
    30_000,
  );
});
