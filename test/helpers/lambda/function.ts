// One deployed Lambda function run the way Lambda runs it: each execution environment a child process started from the
// bundle's task root with only Lambda's variables and the template's, one invocation at a time per environment, new
// environments up to the reserved concurrency, the template's timeout enforced by ending the environment.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InvokeOutcome } from './stream-mapping';

const RUNTIME = join(dirname(fileURLToPath(import.meta.url)), 'runtime.mjs');

export interface FunctionSpec {
  /** Physical name (FunctionName, or the logical id). */
  functionName: string;
  functionArn: string;
  region: string;
  /** The asset directory the template's Code points at. */
  taskRoot: string;
  /** The template's Handler, e.g. `index.handler`. */
  handler: string;
  /** The template's Runtime, e.g. `nodejs24.x`. */
  runtime: string;
  timeoutSeconds: number;
  memorySize: number;
  /** ReservedConcurrentExecutions, or unbounded. */
  reservedConcurrency?: number;
  /** The template's Environment.Variables, resolved. */
  environment: Record<string, string>;
  /** Lambda's JSON log format (LoggingConfig.LogFormat JSON) sets AWS_LAMBDA_LOG_FORMAT. */
  logFormat?: string;
}

export interface FunctionLogLine {
  functionName: string;
  region: string;
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface FunctionOptions {
  /** Credentials and endpoints that stand in for the execution role and the regional AWS endpoints. */
  platformEnvironment: Record<string, string>;
  /** Every line an environment writes, for assertions and for debugging a failure. */
  onLog?: (line: FunctionLogLine) => void;
}

interface Environment {
  child: ChildProcess;
  ready: Promise<InvokeOutcome | null>;
  busy: boolean;
}

/** Lambda's own variables of an execution environment (the reserved ones a function cannot set). */
function lambdaVariables(spec: FunctionSpec): Record<string, string> {
  return {
    AWS_REGION: spec.region,
    AWS_DEFAULT_REGION: spec.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: spec.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `harness/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    ...(spec.logFormat !== undefined ? { AWS_LAMBDA_LOG_FORMAT: spec.logFormat } : {}),
    LAMBDA_TASK_ROOT: spec.taskRoot,
    LAMBDA_RUNTIME_DIR: dirname(RUNTIME),
    _HANDLER: spec.handler,
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
  };
}

/** Variables Lambda sets itself: a function that sets one fails to deploy. */
const RESERVED_VARIABLES = new Set([
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
]);
/** The most a function's variables may take, keys and values together. */
const MAX_ENVIRONMENT_BYTES = 4 * 1024;

/** What Lambda refuses at deploy time about a function's variables. */
export function environmentProblems(environment: Record<string, string>): string[] {
  const problems = Object.keys(environment).filter((k) => RESERVED_VARIABLES.has(k)).map((k) => `${k} is reserved by Lambda`);
  const bytes = Object.entries(environment).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (bytes > MAX_ENVIRONMENT_BYTES) problems.push(`the variables take ${bytes} bytes; Lambda allows ${MAX_ENVIRONMENT_BYTES}`);
  return problems;
}

/** Lambda refuses a deployment whose task root could resolve modules from outside it; so does the harness. */
function assertIsolatedTaskRoot(taskRoot: string): void {
  for (let dir = dirname(taskRoot); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) throw new Error(`task root ${taskRoot} has ${join(dir, 'node_modules')} above it: bare imports could resolve there, as they never would on Lambda`);
  }
}

export class LambdaFunction {
  /** Every invocation's outcome, in order of completion. */
  readonly invocations: { requestId: string; outcome: InvokeOutcome; coldStart: boolean }[] = [];
  private readonly environments: Environment[] = [];
  private closed = false;

  constructor(
    readonly spec: FunctionSpec,
    private readonly options: FunctionOptions,
  ) {
    if (!spec.runtime.startsWith('nodejs')) throw new Error(`${spec.functionName}: runtime ${spec.runtime} is not a Node.js runtime`);
    const problems = environmentProblems(spec.environment);
    if (problems.length > 0) throw new Error(`${spec.functionName} would not deploy: ${problems.join('; ')}`);
    assertIsolatedTaskRoot(spec.taskRoot);
  }

  /** Execution environments started so far (cold starts). */
  get coldStarts(): number {
    return this.invocations.filter((i) => i.coldStart).length;
  }

  /**
   * A synchronous invocation (RequestResponse). A busy function with no room under its reserved concurrency is
   * throttled, as Lambda throttles: `TooManyRequestsException`, for the caller's retry rules to handle.
   */
  async invoke(event: unknown): Promise<InvokeOutcome> {
    if (this.closed) throw new Error(`${this.spec.functionName} is shut down`);
    const requestId = randomUUID();
    let environment = this.environments.find((e) => !e.busy);
    const coldStart = environment === undefined;
    if (environment === undefined) {
      if (this.spec.reservedConcurrency !== undefined && this.environments.length >= this.spec.reservedConcurrency) {
        const outcome: InvokeOutcome = { ok: false, errorType: 'TooManyRequestsException', errorMessage: 'Rate Exceeded.' };
        this.invocations.push({ requestId, outcome, coldStart: false });
        return outcome;
      }
      environment = this.start();
    }
    environment.busy = true;
    const outcome = await this.run(environment, requestId, JSON.parse(JSON.stringify(event ?? null)) as unknown);
    environment.busy = false;
    this.invocations.push({ requestId, outcome, coldStart });
    return outcome;
  }

  private start(): Environment {
    const { spec } = this;
    const child = fork(RUNTIME, [], {
      cwd: spec.taskRoot,
      // Only Lambda's variables, the template's, and the harness's stand-ins for the role and the endpoints:
      // nothing of the test process leaks in, so a variable the template forgot is missing here too.
      env: { ...this.options.platformEnvironment, ...spec.environment, ...lambdaVariables(spec) },
      // Lambda sizes the heap from the memory setting; no loader of the test process is inherited.
      execArgv: [`--max-old-space-size=${Math.floor(spec.memorySize * 0.9)}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = '';
      child[stream]?.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line !== '') this.options.onLog?.({ functionName: spec.functionName, region: spec.region, stream, line });
      });
    }
    const ready = new Promise<InvokeOutcome | null>((resolve) => {
      const onMessage = (message: { type?: string; errorType?: string; errorMessage?: string }) => {
        if (message.type === 'ready') resolve(null);
        if (message.type === 'init-error') resolve({ ok: false, errorType: message.errorType ?? 'Runtime.Unknown', errorMessage: message.errorMessage ?? '' });
        if (message.type === 'ready' || message.type === 'init-error') child.off('message', onMessage);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => resolve({ ok: false, errorType: 'Runtime.ExitError', errorMessage: `RequestId: init Error: Runtime exited with error: exit status ${code ?? 'signal'}` }));
    });
    const environment: Environment = { child, ready, busy: false };
    this.environments.push(environment);
    child.once('exit', () => {
      const index = this.environments.indexOf(environment);
      if (index >= 0) this.environments.splice(index, 1);
    });
    return environment;
  }

  private async run(environment: Environment, requestId: string, event: unknown): Promise<InvokeOutcome> {
    const { child } = environment;
    // The init phase has its own limit on Lambda; the function's timeout counts from the invocation.
    const initFailure = await environment.ready;
    const deadlineMs = Date.now() + this.spec.timeoutSeconds * 1000;
    if (initFailure) {
      // A failed init leaves no environment behind: the next invocation starts a new one.
      this.discard(environment);
      return initFailure;
    }
    return new Promise<InvokeOutcome>((resolve) => {
      const finish = (outcome: InvokeOutcome) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(outcome);
      };
      const onMessage = (message: { type?: string; requestId?: string; payload?: unknown; errorType?: string; errorMessage?: string }) => {
        if (message.requestId !== requestId) return;
        if (message.type === 'result') finish({ ok: true, response: message.payload ?? null });
        if (message.type === 'error') finish({ ok: false, errorType: message.errorType ?? 'Error', errorMessage: message.errorMessage ?? '' });
      };
      const onExit = (code: number | null) => finish({ ok: false, errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: exit status ${code ?? 'signal'}` });
      // Lambda ends an environment that overruns its timeout; the next invocation starts cold.
      const timer = setTimeout(() => {
        this.discard(environment);
        finish({ ok: false, errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds` });
      }, deadlineMs - Date.now());
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ type: 'invoke', requestId, event, deadlineMs, invokedFunctionArn: this.spec.functionArn });
    });
  }

  /** Ends an environment now; it is never handed another invocation. */
  private discard(environment: Environment): void {
    const index = this.environments.indexOf(environment);
    if (index >= 0) this.environments.splice(index, 1);
    environment.child.kill('SIGKILL');
  }

  /** Waits for invocations in flight, then ends every environment. */
  async close(): Promise<void> {
    this.closed = true;
    const until = Date.now() + 15_000;
    while (this.environments.some((e) => e.busy) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all(
      this.environments.map(
        (e) =>
          new Promise<void>((resolve) => {
            if (e.child.exitCode !== null || e.child.signalCode !== null) return resolve();
            e.child.once('exit', () => resolve());
            e.child.kill('SIGTERM');
          }),
      ),
    );
  }
}
