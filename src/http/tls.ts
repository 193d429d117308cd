// TLS for the listener: http.tls.* turned into Node's secure-context options, and a watcher that
// swaps the certificate (and client CAs) in without a restart when the files change, the way
// cert-manager, certbot renewals and `berth tls init --force` replace them. A broken new file
// never takes the listener down: the old context stays and the error is logged.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions, type SecureVersion } from 'node:tls';
import type { Logger } from 'pino';
import type { BerthConfig } from '../config/index.ts';

export type TlsConfig = NonNullable<BerthConfig['http']['tls']>;

// distribution's http.tls.minimumtls values (registry/registry.go); its default is tls1.2.
// OpenSSL 3 refuses TLS 1.0 and 1.1 at its default security level whatever minVersion says, so
// those two (accepted so old configs load; the loader warns) mean TLS 1.2 in practice.
const VERSIONS: Record<string, SecureVersion> = { 'tls1.0': 'TLSv1.2', 'tls1.1': 'TLSv1.2', 'tls1.2': 'TLSv1.2', 'tls1.3': 'TLSv1.3' };

export class TlsFileError extends Error {
  constructor(key: string, path: string, why: string) {
    // Paths and OpenSSL's reason only: never the file's contents (it may be a private key).
    super(`http.tls.${key}: cannot use ${path}: ${why}`);
    this.name = 'TlsFileError';
  }
}

/** Everything a secure context needs, read from the files now. Throws TlsFileError. */
export function readSecureContextOptions(tls: TlsConfig): SecureContextOptions {
  const cert = read('certificate', tls.certificate);
  const key = read('key', tls.key);
  const ca = tls.clientcas?.map((p) => read('clientcas', p));
  // Each file on its own first, so the message names the one that is wrong.
  check('certificate', tls.certificate, () => new X509Certificate(cert));
  check('key', tls.key, () => createPrivateKey(key));
  (ca ?? []).forEach((pem, i) => check('clientcas', tls.clientcas![i], () => new X509Certificate(pem)));
  const options: SecureContextOptions = { cert, key, minVersion: minVersion(tls), ...(ca && { ca }) };
  // Then as the server will use them: a certificate that does not match the key fails here.
  check('key', `${tls.key} (with ${tls.certificate})`, () => createSecureContext(options));
  return options;
}

export function minVersion(tls: TlsConfig): SecureVersion {
  return VERSIONS[tls.minimumtls ?? 'tls1.2'];
}

/** Server options that are fixed for the listener's life (the secure context may change). */
export function serverTlsOptions(tls: TlsConfig) {
  // Mutual TLS as distribution does it: with clientcas, a client certificate is required and verified.
  const mutual = (tls.clientcas?.length ?? 0) > 0;
  return { ...readSecureContextOptions(tls), requestCert: mutual, rejectUnauthorized: mutual };
}

/** Facts about the served certificate for the start-up and reload log lines (public data only). */
export function describeCertificate(pem: string | Buffer): { subject: string; san?: string; notAfter: string; fingerprint256: string } {
  const c = new X509Certificate(pem);
  return { subject: c.subject.replaceAll('\n', ', '), ...(c.subjectAltName && { san: c.subjectAltName }), notAfter: new Date(c.validTo).toISOString(), fingerprint256: c.fingerprint256 };
}

function check(key: string, path: string, parse: () => unknown): void {
  try {
    parse();
  } catch (e) {
    throw new TlsFileError(key, path, reason(e));
  }
}

function read(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new TlsFileError(key, path, (e as NodeJS.ErrnoException).code ?? reason(e));
  }
}

function reason(e: unknown): string {
  return (e as Error).message?.split('\n')[0] ?? String(e);
}

export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void;
}

/**
 * Polls the certificate, key and client CA files (stat only: a few syscalls every interval) and
 * installs a new secure context when any changed. Polling, not fs.watch: a watch follows the
 * inode, and renames (atomic replacement) and Kubernetes' symlink swaps would lose it.
 * Only new connections see the new certificate; open ones keep theirs, as TLS requires.
 */
export class CertificateReloader {
  private timer: NodeJS.Timeout | undefined;
  private seen: string;

  constructor(
    private readonly target: SecureContextTarget,
    private readonly tls: TlsConfig,
    private readonly log: Logger,
    private readonly intervalMs = 2_000,
  ) {
    this.seen = this.signature();
  }

  start(): void {
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Reloads if the files changed since the last attempt. Returns true when a new context was installed. */
  check(): boolean {
    const now = this.signature();
    if (now === this.seen) return false;
    // Remember the attempt even if it fails: a half-written pair is retried when the other file lands.
    this.seen = now;
    let options: SecureContextOptions;
    try {
      options = readSecureContextOptions(this.tls);
    } catch (e) {
      this.log.error({ err: { message: (e as Error).message } }, 'TLS certificate changed but cannot be used; still serving the previous one');
      return false;
    }
    this.target.setSecureContext(options);
    this.log.info({ certificate: describeCertificate(options.cert as Buffer) }, 'TLS certificate reloaded');
    return true;
  }

  // mtime, size, inode and ctime of every file: replacing by rename or symlink swap changes at least one.
  private signature(): string {
    const paths = [this.tls.certificate, this.tls.key, ...(this.tls.clientcas ?? [])];
    return paths
      .map((p) => {
        try {
          const s = statSync(p);
          return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
        } catch {
          return 'missing';
        }
      })
      .join('|');
  }
}
