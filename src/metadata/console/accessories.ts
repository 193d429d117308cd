// Accessories of an image: signatures, attestations and SBOMs, found two ways. OCI 1.1 referrers
// name their subject (manifests.subject_digest); cosign's older scheme tags them next to the image
// as sha256-<hex>.sig / .att / .sbom. The console lists both under the image they belong to and
// leaves the cosign tags out of the tag list.
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { SqlDialect } from '../dialect.ts';
import type { Accessory } from './console-store.ts';

/** cosign's tag for an accessory of `sha256:<hex>`: sha256-<hex>.sig, .att or .sbom. */
export const ACCESSORY_TAG = /^sha256-([0-9a-f]{64})\.(sig|att|sbom)$/;

export const isAccessoryTag = (tag: string): boolean => ACCESSORY_TAG.test(tag);

/** The cosign tags that would name accessories of `digest` (none for a non-sha256 digest). */
export function accessoryTagsOf(digest: string): string[] {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) return [];
  const base = `sha256-${digest.slice(7)}`;
  return [`${base}.sig`, `${base}.att`, `${base}.sbom`];
}

/** The subject digest and kind a cosign accessory tag names. */
export function accessoryTagTarget(tag: string): { subject: string; kind: Accessory['kind'] } | undefined {
  const m = ACCESSORY_TAG.exec(tag);
  if (!m) return undefined;
  return { subject: `sha256:${m[1]}`, kind: m[2] === 'sig' ? 'signature' : m[2] === 'att' ? 'attestation' : 'sbom' };
}

/**
 * `column` is a cosign accessory tag, as ACCESSORY_TAG reads it. SQLite: GLOB is case-sensitive
 * and has no repetition count, so length and suffix pin the shape and a negated class the hex;
 * PostgreSQL: the same regular expression.
 */
export function accessoryTagSql(dialect: SqlDialect, column: string): RawBuilder<SqlBool> {
  const c = sql.ref(column);
  if (dialect === 'postgres') return sql<SqlBool>`(${c} ~ '^sha256-[0-9a-f]{64}[.](sig|att|sbom)$')`;
  return sql<SqlBool>`(${c} glob 'sha256-*' and length(${c}) in (75, 76) and substr(${c}, 72) in ('.sig', '.att', '.sbom') and substr(${c}, 8, 64) not glob '*[^0-9a-f]*')`;
}

/**
 * Whether a row of `tags` (alias `t`) belongs in a tag list: every tag but a cosign accessory tag
 * whose subject is in the list itself (has a tag of its own in the repository), under which it is
 * shown instead. An orphan, whose image was deleted or untagged, is listed as a tag: otherwise
 * nothing in the console would show it, or let anyone delete it.
 */
export function listedTagSql(dialect: SqlDialect, t: string): RawBuilder<SqlBool> {
  const name = `${t}.name`;
  return sql<SqlBool>`(not ${accessoryTagSql(dialect, name)} or not exists (select 1 from tags as subject_tag where subject_tag.repository_id = ${sql.ref(`${t}.repository_id`)} and subject_tag.digest = 'sha256:' || substr(${sql.ref(name)}, 8, 64) and not ${accessoryTagSql(dialect, 'subject_tag.name')}))`;
}

const SIGNATURES = new Set([
  // cosign, stored as an OCI 1.1 referrer
  'application/vnd.dev.cosign.artifact.sig.v1+json',
  // Notary Project (notation): artifactType, or the config media type of its older manifests
  'application/vnd.cncf.notary.signature',
]);

const ATTESTATIONS = new Set([
  'application/vnd.dev.cosign.artifact.att.v1+json',
  'application/vnd.dsse.envelope.v1+json',
  'application/vnd.in-toto+json',
]);

const SBOMS = new Set([
  'application/vnd.dev.cosign.artifact.sbom.v1+json',
  'application/spdx+json',
  'text/spdx',
  'text/spdx+json',
  'application/vnd.cyclonedx+json',
  'application/vnd.cyclonedx+xml',
  'application/vnd.syft+json',
]);

/** The image configuration media types: a manifest whose config is one of these is a plain image. */
const IMAGE_CONFIGS = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);

/**
 * The artifact type the console shows. manifests.artifact_type holds what the referrers API
 * reports (the manifest's artifactType, else its config media type); by the OCI image spec an
 * artifact's type is its artifactType, else its config media type only when that is not the
 * image config's: a plain image has none (null).
 */
export function consoleArtifactType(stored: string | null | undefined): string | null {
  if (!stored || IMAGE_CONFIGS.has(stored.toLowerCase())) return null;
  return stored;
}

/**
 * What a referrer is, from its artifactType (the manifest's own, else its config media type, as
 * manifests.artifact_type holds it) and, failing that, the cosign tag naming it.
 */
export function accessoryKind(artifactType: string | null, tag?: string): Accessory['kind'] {
  const t = artifactType?.toLowerCase();
  if (t) {
    if (SIGNATURES.has(t)) return 'signature';
    if (ATTESTATIONS.has(t) || t.startsWith('application/vnd.in-toto.')) return 'attestation';
    if (SBOMS.has(t) || t.includes('spdx') || t.includes('cyclonedx')) return 'sbom';
  }
  return (tag && accessoryTagTarget(tag)?.kind) || 'other';
}
