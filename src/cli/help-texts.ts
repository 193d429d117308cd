// Help texts of the commands whose modules load the server (config, storage, S3 SDK): kept apart
// so that `berth --help` and the client commands start without loading any of it.
export const USER_EXAMPLES = `
Examples:
  berth user add alice                          # prompts for the password (or generates one)
  printf '%s' "$PASS" | berth user add ci --password-stdin
  berth user passwd alice
  berth user remove alice
  berth user list --config /etc/docker/registry/config.yml
`;

export const IMPORT_EXAMPLES = `
Examples:
  berth import /var/lib/registry --config /etc/berth/config.yml
  berth import /var/lib/registry/docker/registry/v2 --dry-run
  REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/srv/berth berth import /var/lib/registry --json > report.json
  berth import --source-config /etc/docker/registry/config.yml --config /etc/berth/config.yml
  berth import s3://old-registry/registry --source-config /etc/docker/registry/config.yml

A registry:2 in S3 is read with the storage.s3 settings (region, regionendpoint, keys...) of its own
config.yml (--source-config; REGISTRY_* variables configure berth, not the source); an s3:// URL
names the bucket and rootdirectory instead of the config's. Blobs are hard-linked when both trees
are on one filesystem (copied otherwise, and always from S3) and every digest is verified.
Rerunning is safe and fast: what berth already has is left alone. Exit code 0 when nothing was
skipped, 2 when something was (each item listed with its reason), 1 on error.`;

export const GC_EXAMPLES = `
Examples:
  berth gc /etc/docker/registry/config.yml --dry-run     # what would go, nothing deleted
  berth gc /etc/docker/registry/config.yml               # unreferenced blobs older than berth.gc.delay (1h)
  berth gc config.yml --delete-untagged                  # also untagged manifests (index children and referrers of kept images stay)
  berth gc config.yml --delay 0s --json                  # everything unreferenced now; the report as JSON

Runs while the registry serves: no read-only mode, no restart. With --delay 0s a push in flight
may fail with MANIFEST_BLOB_UNKNOWN and succeed when retried; a manifest never points at a
missing blob. Exit codes: 0 done, 1 failed, 2 bad usage, 3 another collection is running.
`;
