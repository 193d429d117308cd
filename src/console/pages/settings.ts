// Settings (read-only, as DTR's page was): the names clients use, the TLS certificate (subject,
// SANs, expiry with a warning under 30 days), storage, metadata store, authentication, version.
// Never a secret: no passwords, keys or connection strings with credentials. settingsData() is
// what the page shows, and GET /api/v1/settings returns it as JSON.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { html, type Html } from '../html.ts';
import { layout, type PageContext } from '../page.ts';
import { registryHost } from '../pull-commands.ts';
import { resolvePostgresConfig } from '../../metadata/postgres-config.ts';
import { sqlitePath } from '../../metadata/sqlite.ts';

interface CertView {
  subject: string;
  issuer: string;
  sans: string[];
  /** Expiry, ms since the epoch. */
  validTo: number;
  /** Whole days until expiry (negative once expired). */
  daysLeft: number;
}

export interface SettingsData {
  domain: { clientsUse: string; host: string | null; listen: string; prefix: string | null };
  /** null: no TLS. */
  tls: null | ({ certificate: string; http2: boolean } & ({ readable: true; cert: CertView } | { readable: false; cert?: undefined }));
  storage: { driver: 'filesystem'; root: string; deletes: boolean } | { driver: 's3'; bucket: string; endpoint: string; root: string | null; deletes: boolean };
  metadata: { driver: 'sqlite' | 'postgres'; database: string; redis: string | null };
  /** Authentication modes, in the page's words: kind plus what the page names it by. */
  auth: { kind: 'htpasswd' | 'ldap' | 'tokenservice' | 'token' | 'accesscontrol'; detail: string | null }[];
  gc: { enabled: boolean; intervalMinutes: number; delayMinutes: number };
  version: { berth: string; node: string; api: string };
}

function readCertificate(path: string): CertView | undefined {
  try {
    const cert = new X509Certificate(readFileSync(path, 'utf8'));
    const validTo = Date.parse(cert.validTo);
    return {
      subject: cert.subject.replace(/\n/g, ', '),
      issuer: cert.issuer.replace(/\n/g, ', '),
      sans: (cert.subjectAltName ?? '').split(',').map((s) => s.trim()).filter(Boolean),
      validTo,
      daysLeft: Math.floor((validTo - Date.now()) / 86_400_000),
    };
  } catch {
    return undefined;
  }
}

export function settingsData(ctx: PageContext): SettingsData {
  const { deps } = ctx;
  const config = deps.services.config;
  const tlsConfig = config.http.tls;
  let tls: SettingsData['tls'] = null;
  if (tlsConfig) {
    const cert = readCertificate(tlsConfig.certificate);
    const base = { certificate: tlsConfig.certificate, http2: !config.http.http2.disabled };
    tls = cert ? { ...base, readable: true, cert } : { ...base, readable: false };
  }
  const deletes = config.storage.delete.enabled;
  const s3 = config.storage.s3;
  const storage: SettingsData['storage'] =
    config.storage.driver === 's3' && s3
      ? { driver: 's3', bucket: s3.bucket, endpoint: s3.regionEndpoint ?? `AWS (${s3.region})`, root: s3.rootDirectory || null, deletes }
      : { driver: 'filesystem', root: config.storage.filesystem.rootdirectory, deletes };
  const md = config.berth.metadata;
  let metadata: SettingsData['metadata'];
  if (md.driver === 'postgres' && md.postgres) {
    let target: string;
    try {
      target = resolvePostgresConfig(md.postgres).target;
    } catch {
      target = '?';
    }
    metadata = { driver: 'postgres', database: target, redis: config.redis ? (config.redis.addr ?? '') : null };
  } else {
    metadata = { driver: 'sqlite', database: sqlitePath(md.sqlite.path, config.storage.filesystem.rootdirectory), redis: config.redis ? (config.redis.addr ?? '') : null };
  }
  const a = config.auth ?? {};
  const auth: SettingsData['auth'] = [];
  if (a.htpasswd) auth.push({ kind: 'htpasswd', detail: a.htpasswd.path });
  if (config.berth.auth.ldap) auth.push({ kind: 'ldap', detail: config.berth.auth.ldap.urls.join(', ') });
  if (config.berth.auth.tokenservice.enabled) auth.push({ kind: 'tokenservice', detail: null });
  else if (a.token) auth.push({ kind: 'token', detail: a.token.realm ?? '' });
  if (config.berth.auth.accessControl.enabled) auth.push({ kind: 'accesscontrol', detail: null });
  const gc = config.berth.lifecycle.gc;
  return {
    domain: {
      clientsUse: registryHost(ctx),
      host: config.http.host ?? null,
      listen: config.http.addr,
      prefix: config.http.prefix && config.http.prefix !== '/' ? config.http.prefix : null,
    },
    tls,
    storage,
    metadata,
    auth,
    gc: { enabled: gc.enabled, intervalMinutes: Math.round(gc.intervalMs / 60_000), delayMinutes: Math.round(gc.delayMs / 60_000) },
    version: { berth: deps.version, node: process.version, api: 'registry/2.0, OCI Distribution 1.1' },
  };
}

export async function settingsPage(ctx: PageContext): Promise<Html> {
  const { t } = ctx;
  const s = settingsData(ctx);
  const storage =
    s.storage.driver === 's3'
      ? html`<dt>${t.t('settings.driver')}</dt><dd>S3</dd><dt>${t.t('settings.bucket')}</dt><dd class="mono">${s.storage.bucket}</dd>
<dt>${t.t('settings.endpoint')}</dt><dd class="mono">${s.storage.endpoint}</dd>${s.storage.root ? html`<dt>${t.t('settings.root')}</dt><dd class="mono">${s.storage.root}</dd>` : ''}`
      : html`<dt>${t.t('settings.driver')}</dt><dd>${t.t('settings.filesystem')}</dd><dt>${t.t('settings.root')}</dt><dd class="mono">${s.storage.root}</dd>`;
  const metadata = html`<dt>${t.t('settings.driver')}</dt><dd>${s.metadata.driver === 'postgres' ? 'PostgreSQL' : 'SQLite'}</dd><dt>${t.t('settings.database')}</dt><dd class="mono">${s.metadata.database}</dd>`;
  const modes = s.auth.map((m) => {
    switch (m.kind) {
      case 'htpasswd':
        return `htpasswd (${m.detail})`;
      case 'ldap':
        return `LDAP (${m.detail})`;
      case 'tokenservice':
        return t.t('settings.tokenService');
      case 'token':
        return t.t('settings.externalToken', { realm: m.detail ?? '' });
      case 'accesscontrol':
        return t.t('settings.accessControl');
    }
  });
  const tls = s.tls;
  const cert = tls?.readable ? tls.cert : undefined;
  const body = html`<h1>${t.t('settings.title')}</h1>
<div class="grid">
<section class="card"><h2>${t.t('settings.domain')}</h2><dl class="props">
<dt>${t.t('settings.clientsUse')}</dt><dd class="mono">${s.domain.clientsUse}</dd>
${s.domain.host ? html`<dt>http.host</dt><dd class="mono">${s.domain.host}</dd>` : ''}
<dt>${t.t('settings.listen')}</dt><dd class="mono">${s.domain.listen}</dd>
${s.domain.prefix ? html`<dt>http.prefix</dt><dd class="mono">${s.domain.prefix}</dd>` : ''}
</dl></section>
<section class="card"><h2>${t.t('settings.tls')}</h2>${
    !tls
      ? html`<p><span class="badge badge-warn">${t.t('settings.noTls')}</span></p><p class="hint">${t.t('settings.noTlsHint')}</p>`
      : !cert
        ? html`<p class="error-box" role="alert">${t.t('settings.certUnreadable')}</p>`
        : html`<dl class="props"><dt>${t.t('settings.subject')}</dt><dd class="mono">${cert.subject}</dd><dt>${t.t('settings.issuer')}</dt><dd class="mono">${cert.issuer}</dd>
<dt>${t.t('settings.sans')}</dt><dd>${cert.sans.length ? html`<ul class="plain mono">${cert.sans.map((n) => html`<li>${n}</li>`)}</ul>` : html`<span class="badge badge-warn">${t.t('settings.noSans')}</span>`}</dd>
<dt>${t.t('settings.expires')}</dt><dd><time datetime="${new Date(cert.validTo).toISOString()}">${t.dateTime(cert.validTo)}</time> ${
            cert.daysLeft < 0
              ? html`<span class="badge badge-danger">${t.t('settings.expired')}</span>`
              : cert.daysLeft < 30
                ? html`<span class="badge badge-warn">${t.t('settings.expiresSoon', { days: cert.daysLeft })}</span>`
                : html`<span class="badge badge-ok">${t.t('settings.daysLeft', { days: cert.daysLeft })}</span>`
          }</dd>
<dt>HTTP/2</dt><dd>${tls.http2 ? t.t('settings.on') : t.t('settings.off')}</dd></dl>`
  }</section>
<section class="card"><h2>${t.t('settings.storage')}</h2><dl class="props">${storage}
<dt>${t.t('settings.deletes')}</dt><dd>${s.storage.deletes ? t.t('settings.on') : t.t('settings.off')}</dd></dl></section>
<section class="card"><h2>${t.t('settings.metadata')}</h2><dl class="props">${metadata}${s.metadata.redis !== null ? html`<dt>Redis</dt><dd class="mono">${s.metadata.redis}</dd>` : ''}</dl></section>
<section class="card"><h2>${t.t('settings.auth')}</h2>${modes.length ? html`<ul class="plain">${modes.map((m) => html`<li>${m}</li>`)}</ul>` : html`<p><span class="badge badge-warn">${t.t('settings.noAuth')}</span></p><p class="hint">${t.t('settings.noAuthHint')}</p>`}</section>
<section class="card"><h2>${t.t('settings.gc')}</h2><dl class="props"><dt>${t.t('settings.gcEnabled')}</dt><dd>${s.gc.enabled ? t.t('settings.on') : t.t('settings.off')}</dd>
<dt>${t.t('settings.gcInterval')}</dt><dd>${t.t('settings.minutes', { n: t.number(s.gc.intervalMinutes) })}</dd><dt>${t.t('settings.gcDelay')}</dt><dd>${t.t('settings.minutes', { n: t.number(s.gc.delayMinutes) })}</dd></dl></section>
<section class="card"><h2>${t.t('settings.version')}</h2><dl class="props"><dt>berth</dt><dd>${s.version.berth}</dd><dt>Node.js</dt><dd>${s.version.node}</dd><dt>${t.t('settings.api')}</dt><dd class="mono">${s.version.api}</dd></dl></section>
</div>`;
  return layout(ctx, { title: t.t('settings.title'), nav: 'settings' }, body);
}
