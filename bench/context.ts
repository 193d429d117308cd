// What every benchmark gets from run.ts.
import type { Row } from './report.ts';
import type { Server } from './servers.ts';

export type Target = 'distribution' | 'berth';

export interface Sizes {
  blobBytes: number;
  imageBytes: number;
  imageLayers: number;
  repos: number;
  /** Tags in the one many-tags repository used for tags/list. */
  manyTags: number;
  wrkSeconds: number;
  reps: number;
}

export interface Ctx {
  /** Scratch space for data files (removed at the end). */
  work: string;
  sizes: Sizes;
  quick: boolean;
  /** Registries that started; a missing one is reported as '-'. */
  servers: Partial<Record<Target, Server>>;
  /** Mark the current phase for the RSS sampler. */
  phase(name: string): void;
  /** Record a problem without aborting the run. */
  error(msg: string): void;
  note(msg: string): void;
}

export type Bench = (ctx: Ctx) => Promise<Row[]>;

export const TARGETS: Target[] = ['distribution', 'berth'];

export const MiB = 1024 * 1024;
