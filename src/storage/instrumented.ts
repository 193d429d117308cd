// A BlobStore that times its driver's calls into registry_storage_action_seconds{driver,action}
// (src/metrics/storage.ts), as distribution's storage driver base does. Only wrapped when metrics
// are enabled (src/app.ts), so a registry without them calls its driver directly.
//
// Actions, with distribution's names where the call is the same:
//   stat, uploads.size                   Stat
//   put, uploads.create                  PutContent
//   read, openFile, uploads.read         Reader (until the stream or file is open, not the transfer)
//   uploads.append                       Writer (the whole append: bound by the client's upload speed)
//   uploads.commit, importFile           Move
//   delete, uploads.abort                Delete
//   redirectURL                          URLFor
// walk, listDigests, uploads.list and check are not timed (GC and health: no request waits on them).
import { observeStorageAction, type StorageAction } from '../metrics/storage.ts';
import type { BlobStore, UploadArea } from './blob-store.ts';

function timed<A extends unknown[], R>(driver: string, action: StorageAction, call: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    const started = process.hrtime.bigint();
    try {
      return await call(...args);
    } finally {
      observeStorageAction(driver, action, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}

export function instrumentBlobStore(inner: BlobStore): BlobStore {
  const d = inner.driverName;
  const u = inner.uploads;
  const uploads: UploadArea = {
    create: timed(d, 'PutContent', (id) => u.create(id)),
    append: timed(d, 'Writer', (id, body, tap) => u.append(id, body, tap)),
    size: timed(d, 'Stat', (id) => u.size(id)),
    read: timed(d, 'Reader', (id) => u.read(id)),
    commit: timed(d, 'Move', (id, digest) => u.commit(id, digest)),
    abort: timed(d, 'Delete', (id) => u.abort(id)),
    list: () => u.list(),
  };
  const store: BlobStore = {
    driverName: d,
    stat: timed(d, 'Stat', (digest) => inner.stat(digest)),
    read: timed(d, 'Reader', (digest, range) => inner.read(digest, range)),
    put: timed(d, 'PutContent', (digest, data) => inner.put(digest, data)),
    delete: timed(d, 'Delete', (digest) => inner.delete(digest)),
    walk: () => inner.walk(),
    check: () => inner.check(),
    uploads,
  };
  // The optional capabilities stay optional: callers test for them.
  if (inner.openFile) store.openFile = timed(d, 'Reader', (digest) => inner.openFile!(digest));
  if (inner.importFile) store.importFile = timed(d, 'Move', (digest, path) => inner.importFile!(digest, path));
  if (inner.listDigests) store.listDigests = () => inner.listDigests!();
  if (inner.redirectURL) store.redirectURL = timed(d, 'URLFor', (digest, opts) => inner.redirectURL!(digest, opts));
  return store;
}
