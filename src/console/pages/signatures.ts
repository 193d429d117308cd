// Signatures on the console's pages, from the pull policy (src/trust/policy/):
//  - the image page's "Signatures" card: every signature of every kind berth stores for the
//    manifest (cosign signature tag and referrers, GPG simple signatures, Notary targets), each
//    verified against the keys of the policies that apply to the repository (verified /
//    unverified, with the reason) or marked "no policy", and what a pull would get;
//  - the repository page's badge per tag: verified (the policy serves it), signed but not
//    verified, refused by the policy, or just "signed" when no policy applies.
import { html, type Html } from '../html.ts';
import type { PageContext } from '../page.ts';
import type { MessageKey } from '../i18n/index.ts';
import { icon } from '../icons.ts';
import type { ManifestRecord } from '../../metadata/store.ts';
import type { Finding } from '../../trust/policy/findings.ts';
import { manifestHref, shortDigest } from './fragments.ts';
import { registryHost } from '../pull-commands.ts';

function statusBadge(ctx: PageContext, f: Finding): Html {
  const cls = f.status === 'verified' ? 'badge-ok' : f.status === 'unverified' ? 'badge-danger' : 'badge-muted';
  return html`<span class="badge ${cls}">${f.status === 'verified' ? html`${icon('shield')} ` : ''}${ctx.t.t(`trust.status.${f.status}` as MessageKey)}</span>`;
}

function source(ctx: PageContext, f: Finding): string {
  if (f.kind === 'notary') return f.source === 'chain' ? ctx.t.t('trust.source.chain') : f.source;
  return ctx.t.t(`trust.source.${f.source}` as MessageKey);
}

function signatureCell(ctx: PageContext, name: string, f: Finding): Html {
  if (f.kind === 'cosign') return html`<a class="mono" href="${manifestHref(ctx, name, f.name)}">${shortDigest(f.name)}</a>`;
  if (f.kind === 'gpg') return html`<span class="mono" title="${f.name}">${shortDigest(f.name.slice(f.name.indexOf('@') + 1)) || f.name}</span>`;
  return html`<span class="mono">${f.name}</span>`;
}

/** The image page's card. */
export async function signaturesSection(ctx: PageContext, name: string, digest: string, tags: string[]): Promise<Html> {
  const { t, deps } = ctx;
  const trust = deps.services.trust;
  if (!trust) return html``;
  const record: ManifestRecord | undefined = await deps.services.metadata.manifest(name, digest);
  if (!record) return html``;
  const report = await trust.signatures(name, digest, record, { host: registryHost(ctx), tags });
  const verdict = report.policies.length
    ? html`<p><strong>${t.t('trust.policies')}:</strong> ${report.policies.join('; ')}</p>
<p>${report.refusal ? html`<span class="badge badge-danger">${t.t('trust.badge.refused')}</span> ${t.t('trust.refused', { reason: report.refusal })}` : html`<span class="badge badge-ok">${icon('shield')} ${t.t('trust.badge.verified')}</span> ${t.t('trust.served')}`}</p>`
    : html`<p class="muted">${t.t('trust.noPolicy')}</p>`;
  const rows = report.findings.map(
    (f) => html`<tr><td>${t.t(`trust.kind.${f.kind}` as MessageKey)}</td><td>${source(ctx, f)}</td><td>${signatureCell(ctx, name, f)}${f.reference ? html`<div class="muted mono">${t.t('trust.signedAs', { reference: f.reference })}</div>` : ''}</td><td class="mono">${f.signer ?? html`<span class="muted">${t.t('trust.unknownSigner')}</span>`}</td><td>${statusBadge(ctx, f)}${f.reason ? html`<div class="muted">${f.reason}</div>` : ''}</td></tr>`,
  );
  return html`<section class="card" aria-labelledby="signatures-title"><h2 id="signatures-title">${t.t('trust.title')}</h2>${verdict}${
    rows.length
      ? html`<table class="data" id="signatures"><thead><tr><th scope="col">${t.t('trust.col.kind')}</th><th scope="col">${t.t('trust.col.source')}</th><th scope="col">${t.t('trust.col.signature')}</th><th scope="col">${t.t('trust.col.signer')}</th><th scope="col">${t.t('trust.col.status')}</th></tr></thead><tbody>${rows}</tbody></table>`
      : html`<p class="muted">${t.t('trust.none')}</p>`
  }</section>`;
}

export type TagTrust = 'verified' | 'unverified' | 'refused' | 'signed' | undefined;

/**
 * The badge of each tag on a repository page: with a policy, what a pull of the tag gets (and
 * whether anything signed it); without one, whether any signature of any kind exists.
 */
export async function tagTrust(ctx: PageContext, name: string, tags: { name: string; digest: string; signed: boolean }[]): Promise<TagTrust[]> {
  const { services } = ctx.deps;
  const trust = services.trust;
  if (!trust || tags.length === 0) return tags.map((tag) => (tag.signed ? 'signed' : undefined));
  const host = registryHost(ctx);
  const [applies, gpgSigned, notary] = await Promise.all([
    trust.applies(name),
    services.metadata.signatures.signed(name, [...new Set(tags.map((tag) => tag.digest))]),
    trust.notaryTargetsByName(name, host),
  ]);
  const records = new Map<string, Promise<ManifestRecord | undefined>>();
  const record = (digest: string) => records.get(digest) ?? records.set(digest, services.metadata.manifest(name, digest)).get(digest)!;
  return Promise.all(
    tags.map(async (tag): Promise<TagTrust> => {
      const hasNotary = notary.has(tag.name);
      const signed = tag.signed || gpgSigned.has(tag.digest) || hasNotary;
      if (!applies) return signed ? 'signed' : undefined;
      const rec = await record(tag.digest);
      if (!rec) return signed ? 'signed' : undefined;
      let refusal = trust.check(name, tag.digest, rec, { tag: tag.name, host });
      if (refusal !== undefined && typeof refusal !== 'string') refusal = await refusal;
      return refusal ? (signed ? 'unverified' : 'refused') : 'verified';
    }),
  );
}

/** The badge itself (empty when there is nothing to say). */
export function trustBadge(ctx: PageContext, state: TagTrust): Html | string {
  const { t } = ctx;
  switch (state) {
    case 'verified':
      return html` <span class="badge badge-ok" title="${t.t('trust.badge.title.verified')}">${icon('shield')} ${t.t('trust.badge.verified')}</span>`;
    case 'unverified':
      return html` <span class="badge badge-warn">${icon('shield')} ${t.t('trust.badge.unverified')}</span>`;
    case 'refused':
      return html` <span class="badge badge-danger">${t.t('trust.badge.refused')}</span>`;
    case 'signed':
      return html` <span class="badge badge-signed" title="${t.t('trust.badge.title.signed')}">${icon('shield')} ${t.t('repo.signed')}</span>`;
    default:
      return '';
  }
}
