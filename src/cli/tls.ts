// `berth tls init`: a private CA (new, reused from --out, or given) and a server certificate for the
// registry's names, written as PEM files, then what to put in config.yml and on every client.
// Replaces the eight openssl steps of the usual guides; no openssl binary is involved.
import { X509Certificate, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { instructions } from '../tls/instructions.ts';
import type { CertificateAuthority } from '../tls/issue.ts';
import { subjectNames } from '../tls/names.ts';

export interface TlsInitOptions {
  host: string[];
  ip: string[];
  out: string;
  caCert?: string;
  caKey?: string;
  days: string;
  caDays: string;
  port: string;
  force?: boolean;
}

export async function tlsInit(opts: TlsInitOptions): Promise<number> {
  const names = subjectNames(opts.host, opts.ip);
  const days = positiveInt('--days', opts.days);
  const caDays = positiveInt('--ca-days', opts.caDays);
  const port = positiveInt('--port', opts.port);
  if (port > 65535) throw new Error('--port: at most 65535');
  if ((opts.caCert === undefined) !== (opts.caKey === undefined)) throw new Error('--ca-cert and --ca-key go together');

  // Loaded here, not at the top: the X.509 library is big and `berth serve` never needs it.
  const { createCA, issue, loadCA } = await import('../tls/issue.ts');
  const out = resolve(opts.out);
  await mkdir(out, { recursive: true });
  const paths = { caCert: join(out, 'ca.crt'), caKey: join(out, 'ca.key'), cert: join(out, 'server.crt'), key: join(out, 'server.key') };
  for (const p of [paths.cert, paths.key]) {
    if (existsSync(p) && !opts.force) throw new Error(`${p} exists; add --force to replace it (a running berth picks up the new files)`);
  }

  const say = (line: string) => process.stdout.write(`${line}\n`);
  const written: string[] = [];
  let ca: CertificateAuthority;
  if (opts.caCert && opts.caKey) {
    ca = await loadCA(await readFile(opts.caCert, 'utf8'), await readFile(opts.caKey, 'utf8'));
    if (resolve(opts.caCert) !== paths.caCert) {
      await writeAtomic(paths.caCert, ca.cert.toString('pem') + '\n', 0o644);
      written.push(`${paths.caCert}   copy of ${resolve(opts.caCert)}: give it to every client`);
    }
  } else if (existsSync(paths.caCert) && existsSync(paths.caKey)) {
    // Same CA as last time: clients that trust it keep working with the new server certificate.
    ca = await loadCA(await readFile(paths.caCert, 'utf8'), await readFile(paths.caKey, 'utf8'));
    say(`Using the existing CA in ${out} (${new X509Certificate(await readFile(paths.caCert)).subject.replaceAll('\n', ', ')}).`);
    if (statSync(paths.caKey).mode & 0o077) say(`warning: ${paths.caKey} can be read by other users; chmod 600 it.`);
  } else {
    const created = await createCA({ commonName: `berth registry CA ${names.dns[0] ?? names.ips[0]} ${new Date().toISOString().slice(0, 10)}`, days: caDays });
    await writeAtomic(paths.caKey, created.keyPem, 0o600);
    await writeAtomic(paths.caCert, created.cert.toString('pem') + '\n', 0o644);
    written.push(`${paths.caKey}   the CA's private key (0600): only needed to issue certificates; keep it off the registry host if you can`);
    written.push(`${paths.caCert}   the CA certificate: give it to every client (valid until ${created.cert.notAfter.toISOString().slice(0, 10)})`);
    ca = created;
  }

  const server = await issue(ca, { names, days });
  // A CA that is itself signed by another (an intermediate) goes into the chain the server sends.
  const selfSigned = ca.cert.subject === ca.cert.issuer;
  const chain = server.certPem + '\n' + (selfSigned ? '' : ca.cert.toString('pem') + '\n');
  // Key first: a berth watching these files then sees a matching pair as soon as the cert lands.
  await writeAtomic(paths.key, server.keyPem, 0o600);
  await writeAtomic(paths.cert, chain, 0o644);
  const sans = [...names.dns.map((d) => `DNS:${d}`), ...names.ips.map((i) => `IP:${i}`)].join(', ');
  written.push(`${paths.key}   the registry's private key (0600)`);
  written.push(`${paths.cert}   the registry's certificate for ${sans} (valid until ${server.cert.notAfter.toISOString().slice(0, 10)})`);

  say('Wrote:');
  for (const w of written) say(`  ${w}`);
  say('');
  say(instructions({ names, port, caCert: paths.caCert, serverCert: paths.cert, serverKey: paths.key }));
  return 0;
}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag}: expected a positive whole number, got ${JSON.stringify(v)}`);
  return n;
}

/** Write to a temporary name with the final mode, then rename: readers never see half a file or loose permissions. */
async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data, { mode, flag: 'wx' });
    await chmod(tmp, mode); // exactly this mode whatever the umask
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
