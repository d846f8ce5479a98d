// One regionwatch Lambda: Node 24 on arm64, ESM bundle built by the local esbuild, its own role and encrypted log group,
// in the user's VPC when the config has one, and the validated config written into the bundle (handlers read it from
// the task root, never from env vars).
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RegionwatchConfig } from '../lambda/config/schema';
import { ENV } from '../lambda/handlers/env';
import { BUNDLED_CONFIG_FILE } from '../lambda/handlers/runtime-config';
import { CONTROL_TOWER_RULES, acknowledgeControl } from './control-tower';
import { regionwatchLogGroup, type LogGroupDefaults } from './log-groups';
import type { FunctionEgress, RegionNetwork } from './network';

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

/** What every function of a probe region shares: how its logs are kept, and the VPC it runs in, if any. */
export interface FunctionDefaults {
  /** The region's key and the configured retention, for every log group. */
  readonly logs: LogGroupDefaults;
  /** The user's VPC in this region (config `vpc`). @default - outside any VPC */
  readonly network?: RegionNetwork;
}

/** Why a function outside a VPC is acknowledged against CT.LAMBDA.PR.3; it names the config key that changes it. */
export const OUTSIDE_VPC_REASON =
  "The config sets no `vpc`, so this function runs in Lambda's own network, reaching the targets and public AWS endpoints directly: nothing of regionwatch listens in a VPC. Set `vpc` (your VPC and private subnets per probe region) to run every function in your VPC, behind your NAT gateways.";

/**
 * The system log level of a function invoked for every round or stream batch (`logs.invocationReports`): 900 B of
 * START, END and REPORT per invocation is most of what those functions would log.
 */
export function busySystemLogLevel(config: RegionwatchConfig): lambda.SystemLogLevel {
  return config.logs.invocationReports ? lambda.SystemLogLevel.INFO : lambda.SystemLogLevel.WARN;
}

export interface RegionwatchFunctionProps {
  /** The validated config, bundled beside the handler. */
  readonly config: RegionwatchConfig;
  /** The region's log key and retention, and VPC. */
  readonly functionDefaults: FunctionDefaults;
  /** In a VPC: which security group the function gets. @default 'aws-apis' */
  readonly egress?: FunctionEgress;
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
  /** Async invocation: retries after a function error. @default - Lambda's default (2) */
  readonly retryAttempts?: number;
  /** Async invocation: the oldest event still worth running. @default - Lambda's default (6 hours) */
  readonly maxEventAge?: Duration;
  /** Async invocation: where a success record goes. @default - nowhere */
  readonly onSuccess?: lambda.IDestination;
  /**
   * Lambda's own lines per invocation (START, END, REPORT) at INFO; WARN keeps only its warnings. The prober and the
   * aggregator run millions of times a month, so theirs follow `logs.invocationReports`.
   * @default lambda.SystemLogLevel.INFO
   */
  readonly systemLogLevel?: lambda.SystemLogLevel;
}

/**
 * A NodejsFunction with its own role (no managed policies: only what binding helpers add) and its own log group
 * (the region's key, the configured retention), writable by that role alone. `PROBE_REGION` is always set. With the
 * config's `vpc` it runs in this region's VPC with the security group for its egress, and its role may manage the
 * network interfaces Lambda needs there.
 */
export class RegionwatchFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RegionwatchFunctionProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    const network = props.functionDefaults.network;
    const egress = props.egress ?? 'aws-apis';
    this.logGroup = regionwatchLogGroup(this, 'Logs', props.functionDefaults.logs);
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
      systemLogLevelV2: props.systemLogLevel ?? lambda.SystemLogLevel.INFO,
      retryAttempts: props.retryAttempts,
      maxEventAge: props.maxEventAge,
      onSuccess: props.onSuccess,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      bundling: bundlingOptions(props.config),
      environment: { [ENV.probeRegion]: region },
      ...network?.placement(egress),
    });
    if (network) {
      network.grantNetworkInterfaces(this.role, egress);
    } else {
      acknowledgeControl(this.function, CONTROL_TOWER_RULES.lambdaInVpc, OUTSIDE_VPC_REASON);
    }
  }

  /** Sets an environment variable; binding helpers call this beside the grant. */
  addEnvironment(name: string, value: string): void {
    this.function.addEnvironment(name, value);
  }

  addToRolePolicy(statement: iam.PolicyStatement): void {
    this.role.addToPolicy(statement);
  }
}
