// A command-line usage error (exit code 2): its own module, so that the CLI's start-up code can
// test for it without loading the reference parsers (src/oci/digest.ts loads node:crypto).
export class UsageError extends Error {}
