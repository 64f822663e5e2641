#!/usr/bin/env node
/**
 * The `stackless` command.
 *
 *     stackless run app.ts [args...]   = node --import stackless/register app.ts [args...]
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const USAGE = `Usage: stackless <command> [arguments]

Commands:
  run <file> [args...]   run a TypeScript or JavaScript file with the "use tasklet"
                         transform applied (node --import stackless/register <file>)
  check <path>...        compile files (directories: every .js/.ts file in them, without
                         node_modules), print the diagnostics and every place where the
                         program would throw StacklessError (SL2001-SL2004, see the README's
                         "Check"); exit 1 on an error
  inspect [--all] <snapshot.json>
                         print a snapshot's tasklets (state, stack with source lines
                         and locals) and channels
  workflows <list | show <id> | cancel <id> | retry <id> | ui | check <old> <new>>
            [--db file | --postgres url] [--json]
                         durable workflow runs in a store: list and inspect them, cancel
                         or retry one, serve a web page of them, or check a deploy
                         (stackless workflows help)
  help                   print this help
  version                print the version

Node options for 'run' go in NODE_OPTIONS, e.g. NODE_OPTIONS=--inspect stackless run app.ts
`;

/** A mistake in how the command was invoked: message, usage hint, exit code 2. */
class UsageError extends Error {}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function run(args: string[]): Promise<number> {
  const [file, ...rest] = args;
  if (file === undefined) throw new UsageError("'stackless run' needs a file to run, e.g. stackless run app.ts");
  if (file.startsWith('-')) {
    throw new UsageError(`'stackless run' takes no options (got '${file}'); pass Node options in NODE_OPTIONS`);
  }
  if (!existsSync(resolve(file))) throw new UsageError(`cannot find '${file}'`);

  const register = new URL('../register/index.js', import.meta.url).href;
  const child = spawn(process.execPath, ['--import', register, file, ...rest], { stdio: 'inherit' });

  // The terminal sends Ctrl-C to the child as well; let it decide, then mirror its exit.
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);

  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      for (const [s, h] of handlers) process.off(s, h);
      if (signal) {
        process.kill(process.pid, signal);
        done(1);
      } else {
        done(code ?? 1);
      }
    });
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'run':
      return run(args);
    case 'check': {
      if (args.length === 0) throw new UsageError("'stackless check' needs files or directories to check");
      const missing = args.find((path) => !existsSync(resolve(path)));
      if (missing !== undefined) throw new UsageError(`cannot find '${missing}'`);
      const { check } = await import('./check.js');
      return check(args, (text) => process.stdout.write(text));
    }
    case undefined:
      process.stderr.write(USAGE);
      return 2;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    case 'version':
    case '--version':
    case '-v':
      process.stdout.write(`${version()}\n`);
      return 0;
    case 'inspect': {
      const all = args[0] === '--all';
      const files = all ? args.slice(1) : args;
      if (files.length !== 1) throw new UsageError("'stackless inspect' needs one snapshot file, e.g. stackless inspect snapshot.json");
      if (!existsSync(resolve(files[0]))) throw new UsageError(`cannot find '${files[0]}'`);
      const { inspect } = await import('./inspect.js');
      return inspect(files[0], all, (text) => process.stdout.write(text), (text) => process.stderr.write(text));
    }
    case 'workflows': {
      const { workflows } = await import('./workflows.js');
      return workflows(args, (text) => process.stdout.write(text), (text) => process.stderr.write(text));
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`stackless: ${error.message}\nRun 'stackless help' for usage.\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`stackless: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
