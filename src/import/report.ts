// What an import did: counters (live, for progress) and every item it skipped, with the reason.
// The JSON form of ImportReport is what `berth import --json` prints; keep its field names stable.
import { humanBytes } from '../util/human-bytes.ts';

export type SkipKind = 'repository' | 'layer' | 'manifest' | 'tag';

export type SkipCode =
  | 'repository-name-invalid' // directory name is not a valid repository name
  | 'repository-unreadable' // listing the repository's directories failed: nothing more of it imported
  | 'entry-invalid' // an <alg>/<hex> directory that is not a digest berth can verify
  | 'link-mismatch' // link file content differs from the digest its directory names
  | 'blob-missing' // no data file in the blob store
  | 'source-unreadable' // a file of the source tree could not be read (permissions, I/O error)
  | 'digest-mismatch' // data does not hash to its digest
  | 'manifest-too-large' // over berth's (and registry:2's) 4 MiB manifest limit
  | 'schema1' // Docker schema 1: berth refuses it
  | 'manifest-invalid' // not a manifest berth accepts
  | 'manifest-blob-missing' // a config/layer it references cannot be imported
  | 'manifest-child-missing' // an index child is not in the repository (or was skipped)
  | 'tag-invalid' // directory name is not a valid tag
  | 'tag-link-missing' // tag directory without current/link
  | 'tag-revision-missing' // tag points at a manifest the repository does not have
  | 'tag-manifest-skipped' // tag points at a manifest that was skipped
  | 'tag-conflict'; // berth already has this tag pointing elsewhere: never overwritten

export interface Skip {
  kind: SkipKind;
  repository: string;
  /** Digest, tag or directory the skip is about. */
  ref: string;
  code: SkipCode;
  reason: string;
}

export interface Counters {
  /** Blob contents in berth's store (each digest once, whatever the number of repositories). */
  blobs: number;
  /** Blob-to-repository links (distribution's _layers). */
  layerLinks: number;
  manifests: number;
  tags: number;
}

export interface ImportStats {
  repositories: { total: number; done: number };
  /** New in berth from this run (would be, in a dry run). */
  imported: Counters & { bytes: number; hardLinked: number; copied: number };
  /** Already in berth and left alone. */
  present: Counters;
  /** Bytes read from the source to verify digests. */
  verifiedBytes: number;
  skipped: number;
}

export interface ImportReport {
  source: string;
  target: string;
  dryRun: boolean;
  durationMs: number;
  repositories: number;
  imported: ImportStats['imported'];
  present: Counters;
  verifiedBytes: number;
  skipped: Skip[];
}

const zero = (): Counters => ({ blobs: 0, layerLinks: 0, manifests: 0, tags: 0 });

export function newStats(): ImportStats {
  return { repositories: { total: 0, done: 0 }, imported: { ...zero(), bytes: 0, hardLinked: 0, copied: 0 }, present: zero(), verifiedBytes: 0, skipped: 0 };
}

/** One skipped item on one line: kind, repo / repo:tag / repo@digest as a user would type it, code, reason. */
export function skipLine(s: Skip): string {
  const what = s.kind === 'repository' ? s.repository : `${s.repository}${s.kind === 'tag' ? ':' : '@'}${s.ref}`;
  return `${s.kind} ${what}: [${s.code}] ${s.reason}`;
}

/** The human summary printed at the end (skips listed one per line so they can be grepped). */
export function formatSummary(r: ImportReport): string {
  const verb = r.dryRun ? 'would import' : 'imported';
  const i = r.imported;
  const p = r.present;
  const how = r.dryRun ? '' : ` (${i.hardLinked} hard-linked, ${i.copied} copied)`;
  const lines = [
    `${r.dryRun ? 'Dry run: ' : ''}${r.repositories} repositories from ${r.source} into ${r.target} in ${(r.durationMs / 1000).toFixed(1)} s`,
    `  ${verb}: ${i.manifests} manifests, ${i.tags} tags, ${i.blobs} blobs, ${humanBytes(i.bytes)}${how}, ${i.layerLinks} blob links`,
    `  already in berth: ${p.manifests} manifests, ${p.tags} tags, ${p.blobs} blobs, ${p.layerLinks} blob links`,
  ];
  if (r.skipped.length === 0) {
    lines.push('  skipped: nothing');
  } else {
    lines.push(`  skipped: ${r.skipped.length}`);
    for (const s of r.skipped) lines.push(`    ${skipLine(s)}`);
  }
  return `${lines.join('\n')}\n`;
}
