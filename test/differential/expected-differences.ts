// Deliberate differences between berth and Distribution 2.8.2: berth follows OCI Distribution
// Spec v1.1 where distribution 2.8 predates it. Mirrored in docs/differences-from-distribution.md;
// keep the two in step. Every entry must be observed (a stale entry fails the test too).
export interface ExpectedDifference {
  /** `<scenario>/<step>` as recorded by the differential tests. */
  step: string;
  /** `status`, `errors`, `body` or `header:<name>`. */
  field: string;
  /** Expected values; a RegExp matches, a string must be equal, undefined means "absent". */
  distribution: string | RegExp | undefined;
  berth: string | RegExp | undefined;
  /** When the status differs as listed, any other field of the same step may differ too. */
  coversStep?: boolean;
  reason: string;
}

export const EXPECTED_DIFFERENCES: ExpectedDifference[] = [
  {
    step: 'upload-monolithic/post-digest',
    field: 'status',
    distribution: '202',
    berth: '201',
    coversStep: true,
    reason: 'OCI 1.1 single-POST monolithic upload (POST ?digest= with the body); 2.8 ignores digest and opens an upload',
  },
  {
    step: 'upload-monolithic/head-after-post-digest',
    field: 'status',
    distribution: '404',
    berth: '200',
    coversStep: true,
    reason: 'consequence of the single-POST upload above: berth stored the blob, 2.8 did not',
  },
  {
    step: 'upload-monolithic/post-digest-wrong',
    field: 'status',
    distribution: '202',
    berth: '400',
    coversStep: true,
    reason: 'OCI 1.1 single-POST upload whose body does not match ?digest= is DIGEST_INVALID; 2.8 opens an upload',
  },
  {
    step: 'upload-out-of-order/patch-gap',
    field: 'status',
    distribution: '202',
    berth: '416',
    coversStep: true,
    reason: 'OCI 1.1: a chunk whose Content-Range does not start at the current offset is 416; 2.8 appends it anyway',
  },
  {
    step: 'upload-status-cancel/status-unknown',
    field: 'errors',
    distribution: 'BLOB_UPLOAD_INVALID',
    berth: 'BLOB_UPLOAD_UNKNOWN',
    reason: 'OCI: an upload id the registry never issued is BLOB_UPLOAD_UNKNOWN; 2.8 fails earlier on its missing _state token',
  },
  {
    step: 'upload-status-cancel/cancel-unknown',
    field: 'errors',
    distribution: 'BLOB_UPLOAD_INVALID',
    berth: 'BLOB_UPLOAD_UNKNOWN',
    reason: 'as above, for DELETE of an upload id never issued',
  },
  {
    step: 'manifest-delete/delete-by-tag',
    field: 'status',
    distribution: '400',
    berth: '202',
    coversStep: true,
    reason: 'OCI 1.1 allows DELETE /v2/NAME/manifests/TAG (removes the tag only); 2.8 demands a digest',
  },
  {
    step: 'referrers/put-with-subject',
    field: 'header:oci-subject',
    distribution: undefined,
    berth: /^sha256:[0-9a-f]{64}$/,
    reason: 'OCI 1.1: a manifest PUT with a subject answers OCI-Subject; 2.8 ignores subject',
  },
  {
    step: 'referrers/get-referrers',
    field: 'status',
    distribution: '404',
    berth: '200',
    coversStep: true,
    reason: 'OCI 1.1 referrers API (GET /v2/NAME/referrers/DIGEST); 2.8 has no such route',
  },
  {
    step: 'referrers/get-referrers-filtered',
    field: 'status',
    distribution: '404',
    berth: '200',
    coversStep: true,
    reason: 'OCI 1.1 referrers API with artifactType filter (and OCI-Filters-Applied); 2.8 has no such route',
  },
  {
    step: 'referrers/get-referrers-none',
    field: 'status',
    distribution: '404',
    berth: '200',
    coversStep: true,
    reason: 'OCI 1.1: referrers of a digest with none is an empty index, not 404',
  },
  {
    step: 'tags/list-n',
    field: 'body',
    distribution: '{"name":"t/img","tags":["a","b","c","d"]}',
    berth: '{"name":"t/img","tags":["a","b"]}',
    reason: 'OCI 1.1: tag list honours n; 2.8 ignores it',
  },
  {
    step: 'tags/list-n',
    field: 'header:link',
    distribution: undefined,
    berth: '</v2/t/img/tags/list?last=b&n=2>; rel="next"',
    reason: 'OCI 1.1: a truncated tag list gives a Link to the next page; 2.8 never truncates',
  },
  {
    step: 'tags/list-last',
    field: 'body',
    distribution: '{"name":"t/img","tags":["a","b","c","d"]}',
    berth: '{"name":"t/img","tags":["c","d"]}',
    reason: 'OCI 1.1: tag list honours last; 2.8 ignores it',
  },
  {
    step: 'tags/list-n-last',
    field: 'body',
    distribution: '{"name":"t/img","tags":["a","b","c","d"]}',
    berth: '{"name":"t/img","tags":["b","c"]}',
    reason: 'OCI 1.1: tag list honours n and last together; 2.8 ignores both',
  },
  {
    step: 'tags/list-n-last',
    field: 'header:link',
    distribution: undefined,
    berth: '</v2/t/img/tags/list?last=c&n=2>; rel="next"',
    reason: 'OCI 1.1: the next page of a truncated tag list is linked; 2.8 never truncates',
  },
];
