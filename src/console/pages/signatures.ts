// Signatures on the console's pages, from the pull policy (src/trust/policy/):
//  - the image page's "Signatures" card: every signature of every kind berth stores for the
//    manifest (cosign signature tag and referrers, GPG simple signatures, Notary targets), each
//    verified against the keys of the policies that apply to the repository (verified /
//    unverified, with the reason) or marked "no policy", and what a pull would get;
//  - the badge of a tag (repository page) or of the image (image page), as data/trust-state.ts
//    decides it: verified (the policy serves it), signed but not verified, refused by the
//    policy, or just "signed" when no policy applies.
import { html, type Html } from '../html.ts';
import type { PageContext } from '../page.ts';
import type { MessageKey } from '../i18n/index.ts';
import { icon } from '../icons.ts';
import type { ManifestRecord } from '../../metadata/store.ts';
import type { Accessory } from '../../metadata/console/console-store.ts';
import type { Finding } from '../../trust/policy/findings.ts';
import type { TrustState } from '../data/trust-state.ts';
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

/** What a signature accessory is, for a row the policy's findings do not cover. */
function accessoryKindLabel(ctx: PageContext, a: Accessory): string {
  const type = a.artifactType?.toLowerCase() ?? '';
  if (type === 'application/vnd.cncf.notary.signature') return ctx.t.t('trust.kind.notation');
  if (a.tag?.endsWith('.sig') || type.startsWith('application/vnd.dev.cosign.')) return ctx.t.t('trust.kind.cosign');
  return ctx.t.t('accessory.signature');
}

function accessoryReason(ctx: PageContext, a: Accessory): string {
  const type = a.artifactType?.toLowerCase() ?? '';
  if (type === 'application/vnd.cncf.notary.signature') return ctx.t.t('trust.reason.notation');
  if (a.tag?.endsWith('.sig') || type.startsWith('application/vnd.dev.cosign.')) return ctx.t.t('trust.reason.noPayload');
  return ctx.t.t('trust.reason.unknownFormat');
}

/**
 * The image page's card: the policy's findings (cosign, GPG, Notary, each verified or listed),
 * then every signature accessory of the manifest that no finding covers (a `.sig` tag without a
 * cosign simple-signing layer, a Notation signature), so that whatever makes the repository
 * page say "signed" is listed here too, with why it is not checked.
 */
export async function signaturesSection(ctx: PageContext, name: string, digest: string, tags: string[], accessories: Accessory[]): Promise<Html> {
  const { t, deps } = ctx;
  const trust = deps.services.trust;
  const record: ManifestRecord | undefined = await deps.services.metadata.manifest(name, digest);
  if (!record) return html``;
  const report = trust ? await trust.signatures(name, digest, record, { host: registryHost(ctx), tags }) : { policies: [], findings: [] as Finding[], refusal: undefined };
  const verdict = report.policies.length
    ? html`<p><strong>${t.t('trust.policies')}:</strong> ${report.policies.join('; ')}</p>
<p>${report.refusal ? html`<span class="badge badge-danger">${t.t('trust.badge.refused')}</span> ${t.t('trust.refused', { reason: report.refusal })}` : html`<span class="badge badge-ok">${icon('shield')} ${t.t('trust.badge.verified')}</span> ${t.t('trust.served')}`}</p>`
    : html`<p class="muted">${t.t('trust.noPolicy')}</p>`;
  const rows = report.findings.map(
    (f) => html`<tr><td>${t.t(`trust.kind.${f.kind}` as MessageKey)}</td><td>${source(ctx, f)}</td><td>${signatureCell(ctx, name, f)}${f.reference ? html`<div class="muted mono">${t.t('trust.signedAs', { reference: f.reference })}</div>` : ''}</td><td class="mono">${f.signer ?? html`<span class="muted">${t.t('trust.unknownSigner')}</span>`}</td><td>${statusBadge(ctx, f)}${f.reason ? html`<div class="muted">${f.reason}</div>` : ''}</td></tr>`,
  );
  const covered = new Set(report.findings.filter((f) => f.kind === 'cosign').map((f) => f.name));
  const unchecked = accessories.filter((a) => a.kind === 'signature' && !covered.has(a.digest));
  const extra = unchecked.map(
    (a) => html`<tr><td>${accessoryKindLabel(ctx, a)}</td><td>${a.tag ? t.t('trust.source.tag') : t.t('trust.source.referrer')}</td><td><a class="mono" href="${manifestHref(ctx, name, a.digest)}">${a.tag ?? shortDigest(a.digest)}</a></td><td><span class="muted">${t.t('trust.unknownSigner')}</span></td><td><span class="badge badge-muted">${t.t('trust.status.unchecked')}</span><div class="muted">${accessoryReason(ctx, a)}</div></td></tr>`,
  );
  return html`<section class="card" aria-labelledby="signatures-title"><h2 id="signatures-title">${t.t('trust.title')}</h2>${verdict}${
    rows.length || extra.length
      ? html`<div class="table-wrap"><table class="data" id="signatures"><thead><tr><th scope="col">${t.t('trust.col.kind')}</th><th scope="col">${t.t('trust.col.source')}</th><th scope="col">${t.t('trust.col.signature')}</th><th scope="col">${t.t('trust.col.signer')}</th><th scope="col">${t.t('trust.col.status')}</th></tr></thead><tbody>${rows}${extra}</tbody></table></div>`
      : html`<p class="muted">${t.t('trust.none')}</p>`
  }</section>`;
}

export type TagTrust = TrustState;

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
