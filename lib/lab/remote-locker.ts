/**
 * `syslocks-lab locker --listen HOST:PORT`: a locker that a controller on another host
 * drives over TCP (protocol and rules: remote.ts). It binds to loopback unless told
 * otherwise, and accepts only controllers that present its token. The token comes
 * from `--token-file PATH` or the `SYSLOCKS_LAB_TOKEN` environment variable, never
 * from the command line (where `ps` would show it to every user of the host).
 * @packageDocumentation
 */
import { readFileSync, statSync } from 'node:fs';
import { parseArgs, UsageError } from './args.js';
import { MIN_TOKEN_LENGTH, serveLocker, TOKEN_ENV } from './remote.js';

/** Usage of `locker` (for `--help`). */
export const LOCKER_USAGE = `usage: syslocks-lab locker --listen [HOST:]PORT [--token-file PATH] [--root DIR]

Waits for a controller ('syslocks-lab controller SCHEDULE', or the Controller API of
'syslocks/lab') and runs its lock commands on this host.

  --listen HOST:PORT  address to listen on; a bare PORT binds 127.0.0.1 (this host
                      only). Reachable from other hosts only when told so, e.g.
                      --listen 0.0.0.0:7001. Port 0 picks a free port.
  --token-file PATH   file holding the shared token (at least ${MIN_TOKEN_LENGTH} characters);
                      default: the ${TOKEN_ENV} environment variable
  --root DIR          refuse files outside DIR

A controller must present the token; anyone else is refused and disconnected.
When a controller's connection ends, every lock it took here is released and the
locker waits for the next controller (a new controller also replaces an old one).
Prints 'listening on HOST:PORT pid N' once ready; stop it with Ctrl-C or SIGTERM.
`;

/** Parses `[HOST:]PORT`. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:(.*):)?(\d+)$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || !Number.isInteger(port) || port > 65535)
    throw new UsageError(`--listen must be [HOST:]PORT (got '${text}')`);
  return { host: (m[1] || '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port };
}

function readToken(path: string | undefined): string {
  if (path === undefined) {
    const t = process.env[TOKEN_ENV];
    if (!t) throw new UsageError(`no token: set ${TOKEN_ENV} or pass --token-file PATH`);
    return t.trim();
  }
  // A token file others can read is not a secret: refuse it, as ssh does for keys.
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0)
    throw new UsageError(`--token-file ${path} is readable by group or others; chmod 600 it`);
  return readFileSync(path, 'utf8').trim();
}

/** Runs `locker` until SIGINT/SIGTERM; resolves with the exit code. */
export async function lockerCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['listen', 'token-file', 'root'], []);
  if (args.positionals.length) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const listen = args.values.get('listen');
  if (listen === undefined) throw new UsageError('locker needs --listen [HOST:]PORT');
  const { host, port } = parseListen(listen);
  const token = readToken(args.values.get('token-file'));
  if (token.length < MIN_TOKEN_LENGTH)
    throw new UsageError(`the token must have at least ${MIN_TOKEN_LENGTH} characters`);
  const root = args.values.get('root');
  const server = await serveLocker({
    host,
    port,
    token,
    ...(root !== undefined ? { root } : {}),
    log: (line) => process.stderr.write(`locker: ${line}\n`),
  });
  const a = server.address;
  process.stdout.write(
    `listening on ${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port} pid ${process.pid}\n`,
  );
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  await server.close();
  return 0;
}
