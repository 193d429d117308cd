// "What would this policy delete?" before it is saved: the console's retention form previews a
// namespace policy that is not stored yet. The plan is the one POST /api/v1/retention/preview
// makes (Retention.preview: the same repositories, policy selection, immutable tags, grace period),
// over a view of the metadata in which the namespace's stored policy is replaced by the candidate.
// Nothing is written: a preview deletes nothing and takes no lease.
import type { Logger } from 'pino';
import type { RegistryServices } from '../registry/services.ts';
import type { LifecycleStore } from '../metadata/lifecycle/lifecycle-store.ts';
import type { MetadataStore } from '../metadata/store.ts';
import type { RetentionReport } from './retention.ts';
import { createRetention } from './retention-runner.ts';
import type { PolicyJson } from './retention-rules.ts';

export const RETENTION_RULE_KIND = 'retention';

/** `target` with some members replaced; its own methods still run on the target itself. */
function overlay<T extends object>(target: T, replaced: Partial<T>): T {
  return new Proxy(target, {
    get(t, p) {
      if (Object.prototype.hasOwnProperty.call(replaced, p)) return (replaced as Record<PropertyKey, unknown>)[p];
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/** What a run would delete now in `namespace` if its policy were `policy` (stored or not). */
export function previewCandidatePolicy(services: RegistryServices, log: Logger, namespace: string, policy: PolicyJson): Promise<RetentionReport> {
  const ns = namespace.replace(/\/+$/, '');
  const lifecycle = services.metadata.lifecycle;
  const rules: LifecycleStore['rules'] = async (kind) => {
    const stored = await lifecycle.rules(kind);
    if (kind !== RETENTION_RULE_KIND) return stored;
    return [...stored.filter((r) => r.namespace.replace(/\/+$/, '') !== ns), { kind, namespace: ns, body: policy, updatedAt: Date.now(), updatedBy: null }];
  };
  const metadata = overlay<MetadataStore>(services.metadata, { lifecycle: overlay(lifecycle, { rules }) });
  return createRetention({ ...services, metadata }, log).preview({ namespace: ns });
}
