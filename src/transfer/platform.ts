// Platforms (`os/arch[/variant]`) as docker and the OCI image index name them, and choosing one
// image out of an index the way `docker pull --platform` does.
import { UsageError } from '../client/image-ref.ts';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** Node's process.arch to the GOARCH names images use. */
const ARCH: Record<string, { architecture: string; variant?: string }> = {
  x64: { architecture: 'amd64' },
  arm64: { architecture: 'arm64' },
  arm: { architecture: 'arm', variant: 'v7' },
  ia32: { architecture: '386' },
  ppc64: { architecture: 'ppc64le' },
  s390x: { architecture: 's390x' },
  riscv64: { architecture: 'riscv64' },
};

/** The platform of this machine (linux/amd64 on x86-64, linux/arm64 on aarch64, ...). */
export function defaultPlatform(arch: string = process.arch): Platform {
  const a = ARCH[arch] ?? { architecture: arch };
  return { os: 'linux', ...a };
}

export function parsePlatform(text: string): Platform {
  const parts = text.trim().toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) {
    throw new UsageError(`invalid --platform ${JSON.stringify(text)}: expected OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm/v7`);
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: Partial<Platform> | undefined): string {
  if (!p || !p.os || !p.architecture) return 'unknown';
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** arm64's variant is v8 when left out; 32-bit arm's default is v7 (containerd's normalisation). */
function normVariant(p: Partial<Platform>): string | undefined {
  if (p.variant) return p.variant;
  if (p.architecture === 'arm64') return 'v8';
  if (p.architecture === 'arm') return 'v7';
  return undefined;
}

/** Whether `have` (an index entry's platform) satisfies `want`. A variant left out of `want` takes any. */
export function platformMatches(want: Platform, have: Partial<Platform> | undefined): boolean {
  if (!have || have.os !== want.os || have.architecture !== want.architecture) return false;
  if (!want.variant) return true;
  return normVariant(have) === normVariant(want);
}

interface IndexEntry {
  platform?: Partial<Platform>;
}

/**
 * The index entry for `want`: an exact variant match first (the default variant when `want` has
 * none), then any entry of that os/arch. Attestation entries (`unknown/unknown`) never match.
 */
export function choosePlatform<T extends IndexEntry>(manifests: readonly T[], want: Platform): T | undefined {
  const candidates = manifests.filter((m) => platformMatches(want, m.platform));
  const exact = candidates.find((m) => normVariant(m.platform!) === normVariant(want));
  return exact ?? candidates[0];
}

/** The platforms an index offers, for error messages ("available: linux/amd64, linux/arm64/v8"). */
export function listPlatforms(manifests: readonly IndexEntry[]): string[] {
  return manifests.map((m) => formatPlatform(m.platform)).filter((p) => p !== 'unknown/unknown' && p !== 'unknown');
}
