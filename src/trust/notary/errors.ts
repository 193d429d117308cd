// The errors of the Notary API, in the shape the notary client reads (storage/httpstore.go): a 404
// is "no such metadata"; a 400 carries exactly one error whose `detail` is a serialised validation
// error, `{"Name":"ErrBadRoot","Error":{"Msg":...}}`, which the client turns back into its own
// error type (it reads at most 1 KiB of the body). Any other status reads as "unable to reach
// trust server", so nothing but 200 may mean success.

export type NotaryErrorCode =
  | 'METADATA_NOT_FOUND'
  | 'INVALID_UPDATE'
  | 'MALFORMED_UPLOAD'
  | 'MALFORMED_JSON'
  | 'NO_FILENAME'
  | 'INVALID_ROLE'
  | 'VERSION'
  | 'INVALID_GUN'
  | 'UNKNOWN';

/** The validation error types the notary client knows how to read back (tuf/validation). */
export type ValidationName = 'ErrValidation' | 'ErrBadHierarchy' | 'ErrBadRoot' | 'ErrBadTargets' | 'ErrBadSnapshot';

const STATUS: Record<NotaryErrorCode, number> = {
  METADATA_NOT_FOUND: 404,
  INVALID_UPDATE: 400,
  MALFORMED_UPLOAD: 400,
  MALFORMED_JSON: 400,
  NO_FILENAME: 400,
  INVALID_ROLE: 400,
  VERSION: 400,
  INVALID_GUN: 400,
  UNKNOWN: 500,
};

const MESSAGES: Record<NotaryErrorCode, string> = {
  METADATA_NOT_FOUND: 'You have requested metadata that does not exist.',
  INVALID_UPDATE: 'Update sent by the client is invalid.',
  MALFORMED_UPLOAD: 'The body of your request is malformed.',
  MALFORMED_JSON: 'JSON sent by the client could not be parsed.',
  NO_FILENAME: 'No file was uploaded.',
  INVALID_ROLE: 'The role you are attempting to operate on is invalid.',
  VERSION: 'A newer version of metadata is already available.',
  INVALID_GUN: 'The Global Unique Name you have requested is invalid.',
  UNKNOWN: 'unknown error',
};

/** A rule of TUF validation broken by an update: which kind (the client's error type) and why. */
export class ValidationFailure extends Error {
  constructor(
    readonly kind: ValidationName,
    message: string,
    /** ErrBadHierarchy: the role that is missing. */
    readonly missing?: string,
  ) {
    super(message);
  }
}

export class NotaryError extends Error {
  readonly status: number;
  constructor(
    readonly code: NotaryErrorCode,
    readonly validation?: ValidationFailure,
    message?: string,
  ) {
    super(message ?? validation?.message ?? MESSAGES[code]);
    this.status = STATUS[code];
  }

  static invalid(failure: ValidationFailure): NotaryError {
    return new NotaryError('INVALID_UPDATE', failure);
  }

  /** 400 with a detail the client can read back (an ErrValidation when no failure says more). */
  toJSON(): { errors: Array<{ code: string; message: string; detail?: unknown }> } {
    const v = this.validation ?? (this.status === 400 ? new ValidationFailure('ErrValidation', this.message) : undefined);
    const detail = v && { Name: v.kind, Error: { Msg: truncate(v.message), ...(v.missing !== undefined && { Missing: v.missing }) } };
    return { errors: [{ code: this.code, message: truncate(MESSAGES[this.code]), ...(detail && { detail }) }] };
  }
}

/** Keeps the body under the 1 KiB the client reads. */
function truncate(s: string): string {
  return s.length > 600 ? `${s.slice(0, 597)}...` : s;
}
