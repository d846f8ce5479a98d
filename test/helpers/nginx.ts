// Debian's nginx as a real platform (and a real static file server) on 127.0.0.1, in its own temporary prefix.
// Its health answers follow flag files, so a test turns the platform down or read-only by creating a file.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX_PATH = '/usr/sbin/nginx';

export interface Nginx {
  origin: string;
  port: number;
  /** Files under here are served as they are (the status page's rendered files). */
  root: string;
  /** `down`: /health and /canary answer 503; `read-only`: /canary (POST) answers 503, /health 200; `up`: both 200. */
  set(state: 'up' | 'down' | 'read-only'): void;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function config(dir: string, port: number): string {
  // As root, nginx would hand its workers to `nobody`, who cannot read the 0700 temp dir.
  const user = process.getuid?.() === 0 ? 'user root root;' : '';
  return `${user}
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  types { text/html html; application/json json; application/atom+xml atom; image/svg+xml svg; }
  open_file_cache off;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/www;
    index index.html;
    location = /health {
      default_type text/plain;
      if (-f ${dir}/down) { return 503 "down\\n"; }
      return 200 "ok\\n";
    }
    location = /canary {
      default_type application/json;
      if (-f ${dir}/down) { return 503 '{"error":"down"}'; }
      if (-f ${dir}/read-only) { return 503 '{"error":"platform is read-only"}'; }
      return 200 '{"ok":true}';
    }
  }
}
`;
}

/** Starts nginx and waits until it answers; throws with its error log when it does not start. */
export async function startNginx(): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'regionwatch-nginx-'));
  mkdirSync(join(dir, 'tmp'));
  mkdirSync(join(dir, 'www'));
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), config(dir, port));
  const child: ChildProcess = spawn(NGINX_PATH, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  const origin = `http://127.0.0.1:${port}`;
  // Bounded: 100 tries, 20 ms apart.
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`${origin}/health`);
      await res.text();
      break;
    } catch {
      if (child.exitCode !== null || i === 99) {
        child.kill('SIGKILL');
        let log = '';
        try {
          log = readFileSync(join(dir, 'error.log'), 'utf8');
        } catch {
          // no log written
        }
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`nginx did not start on ${origin}: ${log.trim() || 'no error log'}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const flag = (name: string, on: boolean) => {
    const file = join(dir, name);
    if (on) writeFileSync(file, '');
    else rmSync(file, { force: true });
  };
  return {
    origin,
    port,
    root: join(dir, 'www'),
    set(state) {
      flag('down', state === 'down');
      flag('read-only', state === 'read-only');
    },
    close: async () => {
      const exited = new Promise<void>((resolve) => {
        if (child.exitCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
      // SIGQUIT is nginx's graceful stop; it exits within milliseconds when idle.
      child.kill('SIGQUIT');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      try {
        unlinkSync(join(dir, 'nginx.pid'));
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
