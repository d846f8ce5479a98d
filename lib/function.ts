// One regionwatch Lambda: Node 24 on arm64, ESM bundle built by the local esbuild, its own role and log group,
// and the validated config written into the bundle (handlers read it from the task root, never from env vars).
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RegionwatchConfig } from '../lambda/config/schema';
import { ENV } from '../lambda/handlers/env';
import { BUNDLED_CONFIG_FILE } from '../lambda/handlers/runtime-config';

/** The repository root: entries and the lock file are resolved from here, whatever the working directory. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A handler entry such as `lambda/handlers/prober.ts`, relative to the project root. */
export function handlerEntry(relativePath: string): string {
  return join(PROJECT_ROOT, relativePath);
}

/**
 * Credential providers the SDK's default chain loads only by dynamic `import()`, after the environment
 * provider has failed, and the clients they use (STS, SSO, sign-in). Lambda always puts the role's
 * credentials in the environment, so none of them is ever reached in a regionwatch function; left out of
 * the bundle they save about 90 KB (and their parse time) per function. Each is only ever imported
 * dynamically, so a bundle still loads without them (test/infra/cli.test.ts loads every bundle alone).
 */
export const UNREACHED_CREDENTIAL_PROVIDERS = [
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/nested-clients',
  '@aws-sdk/token-providers',
  '@smithy/credential-provider-imds',
] as const;

/**
 * esbuild settings for every handler. The AWS SDK is bundled (not taken from the runtime) so the
 * versions in package-lock.json are the versions that run, except the credential providers Lambda
 * never reaches (above); the `require` shim lets CommonJS dependencies inside the ESM bundle load
 * Node built-ins.
 */
export function bundlingOptions(config: RegionwatchConfig): BundlingOptions {
  const configFile = writeConfigForBundling(config);
  return {
    format: OutputFormat.ESM,
    target: 'node24',
    minify: true,
    sourceMap: false,
    mainFields: ['module', 'main'],
    // A package name alone does not cover its subpaths (`@aws-sdk/nested-clients/sts`): list both.
    externalModules: UNREACHED_CREDENTIAL_PROVIDERS.flatMap((name) => [name, `${name}/*`]),
    banner: "import { createRequire as __rwCreateRequire } from 'node:module'; const require = __rwCreateRequire(import.meta.url);",
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_inputDir: string, outputDir: string) => [`cp "${configFile}" "${join(outputDir, BUNDLED_CONFIG_FILE)}"`],
    },
  };
}

/**
 * Writes the validated config to a content-addressed file that the bundling hook copies into each
 * bundle. The file name is the hash of the content, so a config change changes every asset hash.
 */
export function writeConfigForBundling(config: RegionwatchConfig): string {
  const text = `${JSON.stringify(config, null, 2)}\n`;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'regionwatch-bundled-config');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${hash}.json`);
  writeFileSync(file, text);
  return file;
}

export interface RegionwatchFunctionProps {
  /** The validated config, bundled beside the handler. */
  readonly config: RegionwatchConfig;
  /** Handler entry file (absolute); it exports `handler`. */
  readonly entry: string;
  /** Physical function name; set only where another region must address the function. @default - generated */
  readonly functionName?: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /** Memory in MB; CPU scales with it. */
  readonly memorySize: number;
  /** Hard limit for one invocation. */
  readonly timeout: Duration;
  /** Concurrency cap. @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
  /** How long the function's logs are kept. @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** Async invocation: retries after a function error. @default - Lambda's default (2) */
  readonly retryAttempts?: number;
  /** Async invocation: the oldest event still worth running. @default - Lambda's default (6 hours) */
  readonly maxEventAge?: Duration;
  /** Async invocation: where a success record goes. @default - nowhere */
  readonly onSuccess?: lambda.IDestination;
}

/**
 * A NodejsFunction with its own role (no managed policies: only what binding helpers add) and its
 * own log group with a retention, writable by that role alone. `PROBE_REGION` is always set.
 */
export class RegionwatchFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RegionwatchFunctionProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (execution role)`,
    });
    // The log group exists before the function, so the role needs no logs:CreateLogGroup.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      functionName: props.functionName,
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      retryAttempts: props.retryAttempts,
      maxEventAge: props.maxEventAge,
      onSuccess: props.onSuccess,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      bundling: bundlingOptions(props.config),
      environment: { [ENV.probeRegion]: region },
    });
  }

  /** Sets an environment variable; binding helpers call this beside the grant. */
  addEnvironment(name: string, value: string): void {
    this.function.addEnvironment(name, value);
  }

  addToRolePolicy(statement: iam.PolicyStatement): void {
    this.role.addToPolicy(statement);
  }
}
