// The image page's data (and GET /api/v1/repositories/<name>/-/manifests/<digest>): the manifest
// row with references and referrers from the metadata store, plus what only the documents say
// (layer order and media types, an index's platforms, the image config's env, entrypoint, labels,
// created time and history), read from the store once.
import type { ManifestDetail } from '../../metadata/console/console-store.ts';
import type { RegistryServices } from '../../registry/services.ts';
import { parseJson, readDocument } from './blob-text.ts';

export interface LayerView {
  digest: string;
  mediaType: string;
  size: number;
  /** The history entry that made it (created_by), when the config has one. */
  createdBy?: string;
  /** Its org.opencontainers.image.title annotation: an artifact's file name (oras push). */
  title?: string;
}

export interface ImageView {
  detail: ManifestDetail;
  /** The manifest's exact bytes as text (for display), undefined when unreadable. */
  raw?: string;
  manifest?: Record<string, unknown>;
  layers: LayerView[];
  platforms: { digest: string; os: string; architecture: string; variant?: string; size: number; mediaType: string }[];
  /** The config descriptor's media type (an artifact's is not the image config's: often the empty one). */
  configMediaType?: string;
  /** The image config, when the config is one (OCI or Docker image config); an artifact has none. */
  config?: {
    created?: string;
    os?: string;
    architecture?: string;
    env: string[];
    entrypoint: string[];
    cmd: string[];
    workingDir?: string;
    user?: string;
    exposedPorts: string[];
    labels: [string, string][];
    history: { created?: string; createdBy?: string; emptyLayer: boolean; comment?: string }[];
  };
}

/** Config media types that are an image config (the OCI image spec's, and Docker's before it). */
const IMAGE_CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export async function loadImageView(services: RegistryServices, repository: string, digest: string): Promise<ImageView | undefined> {
  const detail = await services.metadata.console.manifest(repository, digest);
  if (!detail) return undefined;
  const bytes = await readDocument(services, digest);
  const manifest = parseJson(bytes);
  const view: ImageView = { detail, raw: bytes?.toString('utf8'), manifest, layers: [], platforms: [] };
  if (!manifest) return view;
  if (Array.isArray(manifest.manifests)) {
    for (const m of manifest.manifests as Record<string, unknown>[]) {
      const p = (m.platform ?? {}) as Record<string, unknown>;
      view.platforms.push({
        digest: String(m.digest),
        os: str(p.os) ?? '?',
        architecture: str(p.architecture) ?? '?',
        ...(str(p.variant) && { variant: str(p.variant) }),
        size: Number(m.size) || 0,
        mediaType: str(m.mediaType) ?? '',
      });
    }
    return view;
  }
  const layers = Array.isArray(manifest.layers) ? (manifest.layers as Record<string, unknown>[]) : [];
  const configRef = manifest.config as Record<string, unknown> | undefined;
  view.configMediaType = str(configRef?.mediaType);
  // Docker schema 2 manifests always carry an image config; an OCI manifest's may be anything.
  const imageConfig = configRef && (view.configMediaType === undefined || IMAGE_CONFIG_TYPES.has(view.configMediaType));
  const config = imageConfig && typeof configRef.digest === 'string' && Number(configRef.size) <= 1024 * 1024 ? parseJson(await readDocument(services, configRef.digest)) : undefined;
  const history = Array.isArray(config?.history) ? (config.history as Record<string, unknown>[]) : [];
  const made = history.filter((h) => !h.empty_layer);
  view.layers = layers.map((l, i) => {
    const title = str((l.annotations as Record<string, unknown> | undefined)?.['org.opencontainers.image.title']);
    return { digest: String(l.digest), mediaType: str(l.mediaType) ?? '', size: Number(l.size) || 0, ...(str(made[i]?.created_by) && { createdBy: str(made[i]?.created_by) }), ...(title && { title }) };
  });
  if (config) {
    const c = (config.config ?? {}) as Record<string, unknown>;
    const labels = c.Labels && typeof c.Labels === 'object' ? Object.entries(c.Labels as Record<string, unknown>).map(([k, v]) => [k, String(v)] as [string, string]) : [];
    view.config = {
      created: str(config.created),
      os: str(config.os),
      architecture: str(config.architecture),
      env: strings(c.Env),
      entrypoint: strings(c.Entrypoint),
      cmd: strings(c.Cmd),
      workingDir: str(c.WorkingDir) || undefined,
      user: str(c.User) || undefined,
      exposedPorts: c.ExposedPorts && typeof c.ExposedPorts === 'object' ? Object.keys(c.ExposedPorts) : [],
      labels,
      history: history.map((h) => ({ created: str(h.created), createdBy: str(h.created_by), emptyLayer: !!h.empty_layer, comment: str(h.comment) })),
    };
  }
  return view;
}
