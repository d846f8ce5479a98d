// The `regionwatch` command line (see DESIGN.md for the commands and exit codes).

// The AWS SDK warns on stderr that its 2027 releases need Node 22. For this command line that is noise (local mode and
// the read commands talk to dynalite on loopback, or read one table), so every command turns it off here, before the
// SDK is loaded (hence the dynamic import). The SDK honours only the value "true"; an explicit setting wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('../lambda/cli/main');

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
process.once('SIGTERM', () => controller.abort());

main(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  cwd: process.cwd(),
  signal: controller.signal,
  // Touched only by a command that asks (init): the other commands never open standard input.
  get input() {
    return process.stdin;
  },
  write: (text) => process.stdout.write(text),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`regionwatch: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);

// An ES module: the top-level await above needs one.
export {};
