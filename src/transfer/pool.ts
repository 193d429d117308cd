// How many blobs push, pull and copy move at once (`--parallel` overrides); skopeo's default is 6
// too. The bounded runner itself is src/util/map-limit.ts.
export const DEFAULT_PARALLEL = 6;
