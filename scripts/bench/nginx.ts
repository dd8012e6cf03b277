/** Starts Debian's nginx as a plain reverse proxy (keep-alive upstream, no buffering) for bench:frontend. */
import {spawn} from 'node:child_process';
import {existsSync, mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';

export const NGINX = '/usr/sbin/nginx';

export async function startNginxProxy(dir: string, listenPort: number, upstreamPort: number): Promise<() => void> {
  if (!existsSync(NGINX)) throw new Error('nginx is not installed: run `npm run setup` (Debian nginx-light)');
  mkdirSync(join(dir, 'tmp'), {recursive: true});
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'tmp')};
  proxy_temp_path ${join(dir, 'tmp')};
  fastcgi_temp_path ${join(dir, 'tmp')};
  uwsgi_temp_path ${join(dir, 'tmp')};
  scgi_temp_path ${join(dir, 'tmp')};
  client_max_body_size 64m;
  upstream backend { server 127.0.0.1:${upstreamPort}; keepalive 256; }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
`,
  );
  const p = spawn(NGINX, ['-c', conf, '-p', dir], {stdio: ['ignore', 'ignore', 'pipe']});
  let log = '';
  p.stderr.on('data', (c) => (log += c));
  for (let i = 0; i < 100; i++) {
    if (p.exitCode !== null) throw new Error(`nginx exited: ${log}`);
    const ok = await fetch(`http://127.0.0.1:${listenPort}/`, {method: 'POST', body: '{}'}).then(
      () => true,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return () => p.kill('SIGTERM');
}
