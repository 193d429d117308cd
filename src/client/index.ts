// The registry client: usable against any Distribution-API registry.
export { RegistryClient, RegistryHttpError, parseCreds, type ClientOptions } from './client.ts';
export { getManifest, headManifest, putManifest, deleteManifest, type FetchedManifest } from './manifests.ts';
export { headBlob, getBlob, streamBlob, uploadBlob, uploadBlobStream, mountBlob } from './blobs.ts';
export { parseImageRef, parseRepoRef, manifestRef, UsageError, type ImageRef } from './image-ref.ts';
export { lookupCredentials, storeCredentials, eraseCredentials, configPath, lookupPaths } from './docker-config.ts';
export { TlsError } from './transport.ts';
export { listReferrers, readReferrersTag, addToReferrersTag, supportsReferrersApi, referrersTag, referrerDescriptor, type ReferrerDescriptor, type ReferrersList } from './referrers.ts';
