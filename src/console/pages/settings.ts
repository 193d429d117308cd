// Settings (read-only, as DTR's page was): the names clients use, the TLS certificate (subject,
// SANs, expiry with a warning under 30 days), storage, metadata store, authentication, version.
// Never a secret: no passwords, keys or connection strings with credentials.
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
  validTo: number;
  error?: string;
}

function readCertificate(path: string): CertView | { error: string } {
  try {
    const pem = readFileSync(path, 'utf8');
    const cert = new X509Certificate(pem);
    return {
      subject: cert.subject.replace(/\n/g, ', '),
      issuer: cert.issuer.replace(/\n/g, ', '),
      sans: (cert.subjectAltName ?? '').split(',').map((s) => s.trim()).filter(Boolean),
      validTo: Date.parse(cert.validTo),
    };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export async function settingsPage(ctx: PageContext): Promise<Html> {
  const { t, deps } = ctx;
  const config = deps.services.config;
  const tls = config.http.tls;
  const cert = tls ? readCertificate(tls.certificate) : undefined;
  const daysLeft = cert && 'validTo' in cert ? Math.floor((cert.validTo - Date.now()) / 86_400_000) : undefined;
  const storage =
    config.storage.driver === 's3' && config.storage.s3
      ? html`<dt>${t.t('settings.driver')}</dt><dd>S3</dd><dt>${t.t('settings.bucket')}</dt><dd class="mono">${config.storage.s3.bucket}</dd>
<dt>${t.t('settings.endpoint')}</dt><dd class="mono">${config.storage.s3.regionEndpoint ?? `AWS (${config.storage.s3.region})`}</dd>${config.storage.s3.rootDirectory ? html`<dt>${t.t('settings.root')}</dt><dd class="mono">${config.storage.s3.rootDirectory}</dd>` : ''}`
      : html`<dt>${t.t('settings.driver')}</dt><dd>${t.t('settings.filesystem')}</dd><dt>${t.t('settings.root')}</dt><dd class="mono">${config.storage.filesystem.rootdirectory}</dd>`;
  const md = config.berth.metadata;
  let metadata: Html;
  if (md.driver === 'postgres' && md.postgres) {
    let target: string;
    try {
      target = resolvePostgresConfig(md.postgres).target;
    } catch {
      target = '?';
    }
    metadata = html`<dt>${t.t('settings.driver')}</dt><dd>PostgreSQL</dd><dt>${t.t('settings.database')}</dt><dd class="mono">${target}</dd>`;
  } else {
    metadata = html`<dt>${t.t('settings.driver')}</dt><dd>SQLite</dd><dt>${t.t('settings.database')}</dt><dd class="mono">${sqlitePath(md.sqlite.path, config.storage.filesystem.rootdirectory)}</dd>`;
  }
  const auth = config.auth ?? {};
  const modes: string[] = [];
  if (auth.htpasswd) modes.push(`htpasswd (${auth.htpasswd.path})`);
  if (config.berth.auth.ldap) modes.push(`LDAP (${config.berth.auth.ldap.urls.join(', ')})`);
  if (config.berth.auth.tokenservice.enabled) modes.push(t.t('settings.tokenService'));
  else if (auth.token) modes.push(t.t('settings.externalToken', { realm: auth.token.realm ?? '' }));
  if (config.berth.auth.accessControl.enabled) modes.push(t.t('settings.accessControl'));
  const gc = config.berth.lifecycle.gc;
  const body = html`<h1>${t.t('settings.title')}</h1>
<div class="grid">
<section class="card"><h2>${t.t('settings.domain')}</h2><dl class="props">
<dt>${t.t('settings.clientsUse')}</dt><dd class="mono">${registryHost(ctx)}</dd>
${config.http.host ? html`<dt>http.host</dt><dd class="mono">${config.http.host}</dd>` : ''}
<dt>${t.t('settings.listen')}</dt><dd class="mono">${config.http.addr}</dd>
${config.http.prefix && config.http.prefix !== '/' ? html`<dt>http.prefix</dt><dd class="mono">${config.http.prefix}</dd>` : ''}
</dl></section>
<section class="card"><h2>${t.t('settings.tls')}</h2>${
    !tls
      ? html`<p><span class="badge badge-warn">${t.t('settings.noTls')}</span></p><p class="hint">${t.t('settings.noTlsHint')}</p>`
      : cert && 'error' in cert && !('validTo' in cert)
        ? html`<p class="error-box" role="alert">${t.t('settings.certUnreadable')}</p>`
        : cert && 'validTo' in cert
          ? html`<dl class="props"><dt>${t.t('settings.subject')}</dt><dd class="mono">${cert.subject}</dd><dt>${t.t('settings.issuer')}</dt><dd class="mono">${cert.issuer}</dd>
<dt>${t.t('settings.sans')}</dt><dd>${cert.sans.length ? html`<ul class="plain mono">${cert.sans.map((s) => html`<li>${s}</li>`)}</ul>` : html`<span class="badge badge-warn">${t.t('settings.noSans')}</span>`}</dd>
<dt>${t.t('settings.expires')}</dt><dd><time datetime="${new Date(cert.validTo).toISOString()}">${t.dateTime(cert.validTo)}</time> ${
              daysLeft !== undefined && daysLeft < 0
                ? html`<span class="badge badge-danger">${t.t('settings.expired')}</span>`
                : daysLeft !== undefined && daysLeft < 30
                  ? html`<span class="badge badge-warn">${t.t('settings.expiresSoon', { days: daysLeft })}</span>`
                  : html`<span class="badge badge-ok">${t.t('settings.daysLeft', { days: daysLeft ?? 0 })}</span>`
            }</dd>
<dt>HTTP/2</dt><dd>${config.http.http2.disabled ? t.t('settings.off') : t.t('settings.on')}</dd></dl>`
          : ''
  }</section>
<section class="card"><h2>${t.t('settings.storage')}</h2><dl class="props">${storage}
<dt>${t.t('settings.deletes')}</dt><dd>${config.storage.delete.enabled ? t.t('settings.on') : t.t('settings.off')}</dd></dl></section>
<section class="card"><h2>${t.t('settings.metadata')}</h2><dl class="props">${metadata}${config.redis ? html`<dt>Redis</dt><dd class="mono">${config.redis.addr ?? ''}</dd>` : ''}</dl></section>
<section class="card"><h2>${t.t('settings.auth')}</h2><p>${modes.length ? html`<ul class="plain">${modes.map((m) => html`<li>${m}</li>`)}</ul>` : html`<span class="badge badge-warn">${t.t('settings.noAuth')}</span>`}</p></section>
<section class="card"><h2>${t.t('settings.gc')}</h2><dl class="props"><dt>${t.t('settings.gcEnabled')}</dt><dd>${gc.enabled ? t.t('settings.on') : t.t('settings.off')}</dd>
<dt>${t.t('settings.gcInterval')}</dt><dd>${Math.round(gc.intervalMs / 60_000)} min</dd><dt>${t.t('settings.gcDelay')}</dt><dd>${Math.round(gc.delayMs / 60_000)} min</dd></dl></section>
<section class="card"><h2>${t.t('settings.version')}</h2><dl class="props"><dt>berth</dt><dd>${deps.version}</dd><dt>Node.js</dt><dd>${process.version}</dd><dt>${t.t('settings.api')}</dt><dd class="mono">registry/2.0, OCI Distribution 1.1</dd></dl></section>
</div>`;
  return layout(ctx, { title: t.t('settings.title'), nav: 'settings' }, body);
}
