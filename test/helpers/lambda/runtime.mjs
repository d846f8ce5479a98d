// The harness's stand-in for Lambda's Node.js runtime inside one execution environment (a child process): it loads the
// handler named by _HANDLER from LAMBDA_TASK_ROOT with the runtime's rules, then serves invocations sent by the
// harness over IPC. Plain JavaScript on purpose: nothing transforms the bundle on its way in, as on Lambda.
//
// The rules kept from the Node.js runtime: the handler string is `<module path>.<export path>`; the module file is the
// first of `<path>.js`, `<path>.mjs`, `<path>.cjs` in the task root, loaded with import() (so `.mjs` is ESM, and no
// bare import resolves from anywhere but the task root's own node_modules); a module that cannot be found is
// Runtime.ImportModuleError, a syntax error Runtime.UserCodeSyntaxError, an export that is not a function
// Runtime.HandlerNotFound; an error thrown while the module initialises fails the cold start with that error.
/* global process, console, setTimeout */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import dns from 'node:dns';

// The harness's network: AWS service endpoints stand on loopback under `*.localhost` names (fauxqs's queue URLs),
// which this machine's resolver does not know. Everything else resolves as usual.
const lookup = dns.lookup;
dns.lookup = function lookupWithLocalhost(hostname, options, callback) {
  const cb = typeof options === 'function' ? options : callback;
  const opts = typeof options === 'function' ? {} : typeof options === 'number' ? { family: options } : (options ?? {});
  if (typeof hostname === 'string' && hostname.endsWith('.localhost')) {
    if (opts.all) return process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
    return process.nextTick(cb, null, '127.0.0.1', 4);
  }
  return lookup.call(dns, hostname, options, callback);
};

class RuntimeError extends Error {
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

function describe(error) {
  if (error instanceof Error) return { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  return { errorType: 'Error', errorMessage: String(error), trace: [] };
}

async function loadHandler() {
  const taskRoot = process.env.LAMBDA_TASK_ROOT;
  const handlerString = process.env._HANDLER ?? '';
  const slash = handlerString.lastIndexOf('/');
  const dot = handlerString.indexOf('.', slash + 1);
  if (!taskRoot || dot < 0) throw new RuntimeError('Runtime.MalformedHandlerName', `Bad handler ${handlerString}`);
  const modulePath = handlerString.slice(0, dot);
  const exportPath = handlerString.slice(dot + 1).split('.');
  const file = ['.js', '.mjs', '.cjs'].map((ext) => join(taskRoot, `${modulePath}${ext}`)).find((candidate) => existsSync(candidate));
  if (!file) throw new RuntimeError('Runtime.ImportModuleError', `Error: Cannot find module '${modulePath}'\nRequire stack:\n- /var/runtime/index.mjs`);
  let module;
  try {
    module = await import(pathToFileURL(file).href);
  } catch (error) {
    if (error instanceof SyntaxError) throw new RuntimeError('Runtime.UserCodeSyntaxError', `${error.name}: ${error.message}`);
    if (error && (error.code === 'ERR_MODULE_NOT_FOUND' || error.code === 'MODULE_NOT_FOUND')) throw new RuntimeError('Runtime.ImportModuleError', `Error: ${error.message}`);
    throw error;
  }
  let handler = module;
  for (const key of exportPath) handler = handler?.[key];
  if (typeof handler !== 'function') throw new RuntimeError('Runtime.HandlerNotFound', `${handlerString} is undefined or not exported`);
  return handler;
}

function contextFor(message) {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: message.invokedFunctionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: message.requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, message.deadlineMs - Date.now()),
    done: () => {
      throw new Error('callback-style handlers are not supported by the Node.js 24 runtime');
    },
    fail: () => {
      throw new Error('callback-style handlers are not supported by the Node.js 24 runtime');
    },
    succeed: () => {
      throw new Error('callback-style handlers are not supported by the Node.js 24 runtime');
    },
  };
}

let handler;
try {
  handler = await loadHandler();
  process.send({ type: 'ready' });
} catch (error) {
  process.send({ type: 'init-error', ...describe(error) });
  // Let the message leave before the environment goes away.
  setTimeout(() => process.exit(1), 50);
}

process.on('message', async (message) => {
  if (!handler || message?.type !== 'invoke') return;
  try {
    const result = await handler(message.event, contextFor(message));
    // The runtime answers with the JSON of what the handler resolved with (undefined becomes null).
    process.send({ type: 'result', requestId: message.requestId, payload: result === undefined ? null : JSON.parse(JSON.stringify(result)) });
  } catch (error) {
    console.error(JSON.stringify({ level: 'ERROR', message: 'Invoke Error', ...describe(error) }));
    process.send({ type: 'error', requestId: message.requestId, ...describe(error) });
  }
});

process.on('unhandledRejection', (reason) => {
  console.error(JSON.stringify({ level: 'ERROR', message: 'Unhandled Promise Rejection', ...describe(reason) }));
  process.exit(128);
});
