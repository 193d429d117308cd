// Help texts of the commands whose code program.ts imports only when the command runs (the server's
// modules, the registry client, TLS): kept apart so that `berth --version`, `berth --help` and
// each command start without loading the code of every other command.
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

export const TAGS_EXAMPLES = `
Examples:
  berth tags registry.example.com:5000/library/alpine
  berth tags localhost:5000/team/app --insecure --json | jq -r '.tags[]'
`;

export const CATALOG_EXAMPLES = `
Examples:
  berth catalog registry.example.com:5000
  berth catalog localhost:5000 --insecure --json
`;

export const INSPECT_EXAMPLES = `
Examples:
  berth inspect registry.example.com:5000/library/alpine:3.19
  berth inspect localhost:5000/app@sha256:... --insecure --json
  berth inspect localhost:5000/app:1.0 --raw > manifest.json     # the exact bytes
  berth inspect localhost:5000/app:1.0 --config --insecure        # the image config blob
  berth inspect localhost:5000/app:1.0 --key cosign.pub --gpg-keyring release.gpg   # signatures checked

Signatures of every kind are listed: cosign (the sha256-<hex>.sig tag and OCI referrers), GPG
simple signatures (the registry's signatures extension), Notary targets (the registry's Notary API,
GUN HOST:PORT/REPO). Without --key / --gpg-keyring, cosign and GPG signatures show "not checked".
`;

export const DIGEST_EXAMPLES = `
Examples:
  berth digest registry.example.com:5000/library/alpine:3.19
  IMG=localhost:5000/app@$(berth digest localhost:5000/app:1.0 --insecure)
`;

export const RM_EXAMPLES = `
Examples:
  berth rm registry.example.com:5000/team/app:old-tag
  berth rm localhost:5000/team/app@sha256:... --insecure
  (the registry needs storage.delete.enabled: true)
`;

export const TAG_EXAMPLES = `
Examples:
  berth tag registry.example.com:5000/app:1.0 registry.example.com:5000/app:stable
  berth tag localhost:5000/app@sha256:... localhost:5000/app:prod --insecure
`;

export const USAGE_EXAMPLES = `
Examples:
  berth usage registry.example.com:5000
  berth usage registry.example.com:5000 team-a --json

A namespace's usage counts each blob once, however many of its repositories hold it, so it can be
less than the sum of its repositories. Quotas count the same way (see docs/immutable-tags-and-quotas.md).
`;

export const LOGIN_EXAMPLES = `
Examples:
  printf '%s' "$PASS" | berth login registry.example.com:5000 -u ci --password-stdin
  berth login localhost:5000 -u alice --insecure        # prompts for the password
  berth logout registry.example.com:5000

  # Pull credentials for DC/OS (Mesos fetch URI, or a secret); the local login is left as it is
  printf '%s' "$PASS" | berth login registry.example.com:5000 -u foo --password-stdin --archive docker.tar.gz
  printf '%s' "$PASS" | berth login registry.example.com:5000 -u foo --password-stdin --print-config > config.json
`;

export const TLS_INIT_EXAMPLES = `
Examples:
  berth tls init --host docker.example.com
  berth tls init --host docker.example.com --host registry.internal --ip 192.168.0.1 --out /etc/berth/tls
  berth tls init --host docker.example.com --port 443 --days 397
  berth tls init --host docker.example.com --ca-cert company-ca.crt --ca-key company-ca.key

Writes ca.crt (give it to clients), ca.key (keep it safe, 0600), server.crt and server.key (0600)
into --out. Run it again with another --host and --force to reissue server.crt from the same CA.`;
