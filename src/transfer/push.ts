// Executes a push plan: every distinct blob once, in parallel (skipped, mounted or uploaded, see
// upload.ts), then the manifests: an index's children by digest, the top manifest by the tag.
// A manifest goes up only after all its blobs are in, so the registry never sees a dangling one.
import { addToReferrersTag, headBlob, headManifest, putManifest, referrerDescriptor, supportsReferrersApi } from '../client/index.ts';
import { digestOf } from '../oci/digest.ts';
import type { Descriptor } from '../images/index.ts';
import { mapLimit } from '../util/map-limit.ts';
import type { PlannedImage, PushPlan } from './push-sources.ts';
import { pushBlob, type PushedBlob, type PushTarget } from './upload.ts';
import { bufferBlob } from './push-sources.ts';

export interface PushResult {
  digest: string;
  mediaType: string;
  size: number;
  manifests: number;
  blobs: { pushed: number; exists: number; mounted: number };
  /** Bytes sent over the network. */
  bytes: number;
}

export interface PushOptions {
  parallel: number;
  /** Tag (or digest) for the top manifest. */
  reference: string;
  /** Make the pushed manifest a referrer of this manifest (digest) in the same repository. */
  subject?: string;
}

export async function executePush(plan: PushPlan, t: PushTarget, o: PushOptions): Promise<PushResult> {
  // Each distinct blob once, even when platforms share layers or a config.
  const jobs = new Map<string, () => Promise<PushedBlob>>();
  const configKey = (img: PlannedImage) => digestOf(img.config.bytes);
  for (const img of plan.images) {
    const ck = configKey(img);
    if (!jobs.has(ck)) jobs.set(ck, () => pushBlob(t, { ...bufferBlob(img.config.bytes, ck), label: ck }));
    for (const l of img.layers) if (!jobs.has(l.blob.key)) jobs.set(l.blob.key, () => pushBlob(t, l.blob));
  }
  const keys = [...jobs.keys()];
  const results = new Map<string, PushedBlob>();
  try {
    await mapLimit(keys, o.parallel, async (k) => {
      const r = await jobs.get(k)!();
      // A mount does not say the size; a manifest needs it.
      if (!r.size) r.size = (await headBlob(t.client, t.repo, r.digest)) ?? 0;
      results.set(k, r);
    });
  } finally {
    t.cache.save();
  }

  let subject: Descriptor | undefined;
  if (o.subject) {
    const h = await headManifest(t.client, t.repo, o.subject);
    if (!h) throw new Error(`--subject ${o.subject}: no such manifest in ${t.host}/${t.repo}`);
    subject = { mediaType: h.mediaType, digest: h.digest, size: h.size };
  }

  const built = plan.images.map((img) => {
    const cfg = results.get(configKey(img))!;
    const layers = img.layers.map((l) => {
      const r = results.get(l.blob.key)!;
      return { ...l.template, digest: r.digest, size: r.size } as Descriptor;
    });
    const unchanged = img.originalBytes && !subject && layers.every((l, i) => l.digest === img.layers[i]!.template.digest);
    const bytes = unchanged
      ? img.originalBytes!
      : Buffer.from(
          JSON.stringify({
            ...img.manifest,
            config: { ...((img.manifest.config as object | undefined) ?? {}), mediaType: img.config.mediaType, digest: cfg.digest, size: cfg.size },
            layers,
            ...(subject ? { subject } : {}),
          }),
        );
    return { img, bytes, digest: digestOf(bytes) };
  });

  let top: { bytes: Buffer; mediaType: string };
  if (plan.index) {
    for (const b of built) await putManifest(t.client, t.repo, b.digest, b.bytes, b.img.manifestMediaType);
    const unchanged = built.every((b) => b.img.originalBytes && b.bytes === b.img.originalBytes);
    const entries = (plan.index.json.manifests as Descriptor[]).map((entry) => {
      const b = built.find((x) => x.img.indexEntry === entry);
      return b ? { ...entry, mediaType: b.img.manifestMediaType, digest: b.digest, size: b.bytes.length } : entry;
    });
    top = {
      bytes: unchanged ? plan.index.originalBytes : Buffer.from(JSON.stringify({ ...plan.index.json, manifests: entries })),
      mediaType: plan.index.mediaType,
    };
  } else {
    top = { bytes: built[0]!.bytes, mediaType: built[0]!.img.manifestMediaType };
  }
  const digest = digestOf(top.bytes);
  await putManifest(t.client, t.repo, o.reference, top.bytes, top.mediaType);
  if (subject && !plan.index && !(await supportsReferrersApi(t.client, t.repo, subject.digest))) {
    // OCI 1.1: without the referrers API (registry:2) the pushing client keeps the referrers tag
    // (sha256-<hex>, an index of the referrers), or nobody finds the referrer: berth copy does too.
    if (await addToReferrersTag(t.client, t.repo, subject.digest, [referrerDescriptor(top.bytes, top.mediaType, digest)])) {
      t.progress.line(`Updated the referrers tag of ${subject.digest} (${t.host} has no referrers API)`);
    }
  }

  const counts = { pushed: 0, exists: 0, mounted: 0 };
  let bytes = 0;
  for (const r of results.values()) {
    if (r.outcome === 'pushed' || r.outcome === 'exists' || r.outcome === 'mounted') counts[r.outcome]++;
    bytes += r.sent;
  }
  return { digest, mediaType: top.mediaType, size: top.bytes.length, manifests: built.length + (plan.index ? 1 : 0), blobs: counts, bytes };
}
