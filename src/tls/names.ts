// The names a server certificate is valid for (subjectAltName), checked before anything is
// generated: a typo here only shows up later as an x509 error on every client.
import { isIP } from 'node:net';

export interface SubjectNames {
  dns: string[];
  ips: string[];
}

// RFC 1123 labels; a leading "*." wildcard as TLS clients accept it (one label, left-most).
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function subjectNames(hosts: string[], ips: string[]): SubjectNames {
  const out: SubjectNames = { dns: [], ips: [] };
  for (const raw of hosts) {
    const h = raw.trim().toLowerCase().replace(/\.$/, '');
    const bare = h.replace(/^\[(.*)\]$/, '$1');
    // An address given as --host works as it would in the client's URL: it needs an IP SAN.
    if (isIP(bare)) out.ips.push(bare);
    else if (validHost(h)) out.dns.push(h);
    else throw new Error(`--host ${JSON.stringify(raw)}: not a DNS name (letters, digits, "-", dots; optionally "*." in front)${/:\d+$/.test(h) ? '; give the port with --port' : ''}`);
  }
  for (const raw of ips) {
    const ip = raw.trim().replace(/^\[(.*)\]$/, '$1');
    if (!isIP(ip)) throw new Error(`--ip ${JSON.stringify(raw)}: not an IPv4 or IPv6 address`);
    out.ips.push(ip);
  }
  out.dns = [...new Set(out.dns)];
  out.ips = [...new Set(out.ips)];
  if (out.dns.length + out.ips.length === 0) throw new Error('give at least one --host or --ip: the names clients use to reach the registry');
  return out;
}

function validHost(h: string): boolean {
  if (h.length > 253) return false;
  const labels = h.split('.');
  if (labels[0] === '*') labels.shift();
  return labels.length > 0 && labels.every((l) => LABEL.test(l));
}

/** host:port as clients write it in image references and as docker's certs.d directories are named. */
export function hostPort(name: string, port: number): string {
  const host = isIP(name) === 6 ? `[${name}]` : name;
  // Docker and containerd drop :443, so their directory for the default port has no port.
  return port === 443 ? host : `${host}:${port}`;
}
