// Types for web-build-options.mjs, so src/console/assets.ts and the tests can import it.
import type { BuildOptions, Message } from 'esbuild';

export type AssetName = 'console.js' | 'console.css';

export interface BuiltAsset {
  /** Logical name: `console.js` or `console.css`. */
  name: AssetName;
  /** Name with the content hash: `console.1a2b3c4d.js`. */
  fileName: string;
  bytes: Buffer;
  warnings: Message[];
}

export const ASSET_NAMES: readonly AssetName[];
export const BUDGETS: Readonly<Record<AssetName, number>>;
export function webBuildOptions(root: string): Record<AssetName, BuildOptions>;
export function hashedName(name: string, bytes: Uint8Array): string;
export function buildWeb(esbuild: typeof import('esbuild'), root: string): Promise<BuiltAsset[]>;
