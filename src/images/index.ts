// Image archive formats as a streaming library: docker save tarballs and OCI image layouts.
export { DockerArchive, DockerArchiveImage, dockerSchema2, type ArchiveImageSummary, type ArchiveLayer } from './docker-archive-reader.ts';
export { writeDockerArchive, type ArchiveImageInput } from './docker-archive-writer.ts';
export { OciLayoutReader, type LayoutImage, type LayoutTarget } from './oci-layout-reader.ts';
export { OciLayoutWriter } from './oci-layout-writer.ts';
export { autoGunzip, decompressLayer, digestingStream, gzipWithDigest, verifying, type DigestResult } from './digesting.ts';
export { ConfigMedia, LayerMedia, REF_NAME, type Descriptor } from './media.ts';
export { TarFile, isGzipFile } from './tar-source.ts';
export { hasZstd, zstdCompress, zstdDecompress } from './zstd.ts';
export { indexPlainTar } from './tar-index.ts';
