// LDAP search filters (RFC 4515) for the user and group searches: the configured templates with
// their `{name}` placeholders, the values escaped into them, and parsing by ldapts.
//
// What ldapts' parser does not do, and so what is checked here (at config time, with a message):
// it decodes each `\XX` escape to one UTF-16 unit, so an escaped byte of a multi-byte UTF-8
// character (`\c3\a9` for é) would reach the server as two wrong characters. Values are therefore
// escaped with ldapts' Filter.escape, which leaves non-ASCII characters as they are (the parser
// sends them as UTF-8) and escapes only `*`, `(`, `)`, `\` and NUL, and a template that writes a
// non-ASCII byte as `\XX` is refused rather than silently sent wrong.
import { Filter, FilterParser } from 'ldapts';

export class FilterSyntaxError extends Error {}

/** Templates are short; a bound keeps a mistaken one from building a huge tree. */
const MAX_LENGTH = 8192;

/** RFC 4515 value escaping: no character of `value` can change the structure of the filter. */
export function escapeFilterValue(value: string): string {
  return Filter.escape(value);
}

/** Replaces `{name}` placeholders with the escaped values; unknown placeholders are left as text. */
export function substitute(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(values, name) ? escapeFilterValue(values[name]!) : whole));
}

/** Placeholders used in a template, e.g. ['username']. */
export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
}

/** Parses a filter with ldapts; throws FilterSyntaxError. Outer parentheses may be left out. */
export function parseFilter(text: string): Filter {
  if (text.length > MAX_LENGTH) throw new FilterSyntaxError(`filter longer than ${MAX_LENGTH} characters`);
  const escape = /\\([89a-fA-F][0-9a-fA-F])/.exec(text);
  if (escape) throw new FilterSyntaxError(`\\${escape[1]} is a byte of a non-ASCII character: write the character itself`);
  try {
    return FilterParser.parseString(text.trim());
  } catch (e) {
    // ldapts' messages quote the filter; for a template that is the configured text, not a secret.
    throw new FilterSyntaxError(e instanceof Error ? e.message : String(e));
  }
}

/** Substitutes, then parses: the filter to send. Throws FilterSyntaxError. */
export function renderFilter(template: string, values: Record<string, string>): Filter {
  return parseFilter(substitute(template, values));
}
