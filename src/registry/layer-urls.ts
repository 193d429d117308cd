// validation.manifests.urls: which URLs a foreign (nondistributable) layer may point at. Clients
// download such a layer from its URLs, never from the registry, so these settings decide where a
// pull may be sent. The rules are registry:2's: every URL must be http or https, carry no fragment,
// match one of the allow expressions (when there are any) and none of the deny expressions. An
// expression matches anywhere in the URL unless anchored, as Go's MatchString does.
import type { BerthConfig } from '../config/types.ts';
import type { ParsedManifest } from '../oci/manifest.ts';
import { RegistryError } from './errors.ts';

interface Compiled {
  allow?: RegExp;
  deny?: RegExp;
}

const compiled = new WeakMap<object, Compiled>();

/** One expression for a list, as registry:2 joins them: (?:a)|(?:b). */
const either = (list: string[]): RegExp | undefined => (list.length ? new RegExp(list.map((s) => `(?:${s})`).join('|')) : undefined);

function rules(settings: NonNullable<BerthConfig['validation']['manifestURLs']>): Compiled {
  let c = compiled.get(settings);
  if (!c) compiled.set(settings, (c = { allow: either(settings.allow), deny: either(settings.deny) }));
  return c;
}

function allowed(url: string, { allow, deny }: Compiled): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || url.includes('#')) return false;
  return (!allow || allow.test(url)) && !deny?.test(url);
}

/** Refuses (MANIFEST_INVALID) a manifest with a foreign layer URL the configuration does not allow. */
export function checkLayerURLs(parsed: ParsedManifest, config: BerthConfig): void {
  const settings = config.validation.manifestURLs;
  if (!settings || !parsed.remoteLayers) return;
  const r = rules(settings);
  for (const layer of parsed.remoteLayers) {
    if (layer.urls!.every((u) => allowed(u, r))) continue;
    throw new RegistryError('MANIFEST_INVALID', {
      message: `manifest invalid: layer ${layer.digest} has a URL that validation.manifests.urls does not allow`,
      detail: { digest: layer.digest },
    });
  }
}
