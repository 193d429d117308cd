// nginx in front of berth, configured as in seed 001 (TLS terminated by nginx, basic auth at the
// proxy, plain HTTP to the registry), plus what large pushes need through a proxy. Everything
// nginx writes (pid, logs, temp files) stays in the test's directory; nginx is tied to a shell
// that kills it when this process's end of its stdin closes, so a killed test leaves no nginx.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, run } from '../helpers/processes.ts';
import { listening, waitFor } from './helpers.ts';

export interface NginxProxy {
  port: number;
  /** nginx's output and its error log, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

/** nginx's binary, or a message saying how to get it (the tests fail with it: CI installs nginx-light). */
export function findNginx(): { path: string } | { missing: string } {
  for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx']) if (existsSync(p)) return { path: p };
  return { missing: 'nginx is not installed: `apt-get install -y nginx-light` (bash .ci/run installs it); the nginx-in-front tests cannot run without it' };
}

export interface ProxyOptions {
  nginx: string;
  dir: string;
  upstream: string; // host:port of berth's plain HTTP listener
  certificate: string;
  key: string;
  htpasswd: string;
}

export function seed001Config(o: ProxyOptions & { port: number }): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(o.dir, t)};`).join('\n');
  // As root the workers would otherwise switch to nobody and lose access to the test's files.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}worker_processes 1;
pid ${join(o.dir, 'nginx.pid')};
error_log ${join(o.dir, 'error.log')} info;
events { worker_connections 1024; }
http {
  access_log ${join(o.dir, 'access.log')};
${temp}
  upstream docker-registry {
    server ${o.upstream};
  }

  ## Set a variable to help us decide if we need to add the
  ## 'Docker-Distribution-Api-Version' header.
  ## The registry always sets this header.
  ## In the case of nginx performing auth, the header will be unset
  ## since nginx is auth-ing before proxying.
  map $upstream_http_docker_distribution_api_version $docker_distribution_api_version {
    '' 'registry/2.0';
  }

  server {
    listen 127.0.0.1:${o.port} ssl;
    server_name localhost;

    # SSL: the pair from berth tls init
    ssl_certificate ${o.certificate};
    ssl_certificate_key ${o.key};
    # Seed 001 lists TLSv1.1 TLSv1.2; TLS 1.1 is obsolete (and refused by OpenSSL 3 anyway).
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers 'EECDH+AESGCM:EDH+AESGCM:AES256+EECDH:AES256+EDH';
    ssl_prefer_server_ciphers on;
    ssl_session_cache shared:SSL:10m;

    # disable any limits to avoid HTTP 413 for large image uploads
    client_max_body_size 0;

    # required to avoid HTTP 411: see Issue #1486 (https://github.com/docker/docker/issues/1486)
    chunked_transfer_encoding on;

    location /v2/ {
      # Do not allow connections from docker 1.5 and earlier
      # docker pre-1.6.0 did not properly set the user agent on ping, catch "Go *" user agents
      if ($http_user_agent ~ "^(docker\\/1\\.(3|4|5(?!\\.[0-9]-dev))|Go ).*$" ) {
        return 404;
      }

      auth_basic "Registry realm";
      auth_basic_user_file ${o.htpasswd};

      ## If $docker_distribution_api_version is empty, the header will not be added.
      ## See the map directive above where this variable is defined.
      add_header 'Docker-Distribution-Api-Version' $docker_distribution_api_version always;

      proxy_pass http://docker-registry;
      proxy_set_header Host $http_host; # required for docker client's sake
      proxy_set_header X-Real-IP $remote_addr; # pass on real client's IP
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 900;

      # Not in seed 001, needed for big layers: stream request bodies to berth as they arrive
      # (otherwise nginx spools each layer to disk first), which for chunked bodies needs HTTP/1.1.
      proxy_http_version 1.1;
      proxy_request_buffering off;
    }
  }
}
`;
}

export async function startNginxProxy(o: ProxyOptions): Promise<NginxProxy> {
  const port = await freePort();
  await mkdir(o.dir, { recursive: true });
  const conf = join(o.dir, 'nginx.conf');
  await writeFile(conf, seed001Config({ ...o, port }));
  // -e: the error log before the config is read (the packaged default is under /var/log).
  const base = ['-p', o.dir, '-c', conf, '-e', join(o.dir, 'error.log')];
  const check = await run(o.nginx, ['-t', ...base], { allowFail: true });
  if (check.code !== 0) throw new Error(`nginx rejected the configuration:\n${check.stderr}`);

  const script = '"$0" "$@" -g "daemon off;" & pid=$!; cat >/dev/null; kill -QUIT "$pid" 2>/dev/null; wait "$pid"';
  const child: ChildProcess = spawn('sh', ['-c', script, o.nginx, ...base], { stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (log += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.stdin?.end();
    // QUIT waits for open connections; a wedged one must not hang the suite.
    const timer = setTimeout(() => {
      try {
        const pid = Number(readFileSync(join(o.dir, 'nginx.pid'), 'utf8').trim());
        if (pid > 0) process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitFor('nginx to listen', async () => child.exitCode === null && (await listening(port)), 15_000);
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n${log}`);
  }
  const logs = () => `${log}${existsSync(join(o.dir, 'error.log')) ? readFileSync(join(o.dir, 'error.log'), 'utf8') : ''}`;
  return { port, logs, stop };
}
