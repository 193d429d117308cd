// LDAP search filters (RFC 4515) for the user and group searches: escaping of the values put into
// the configured templates, and a parser that turns the result into a filter tree.
//
// Why a parser of our own: ldapjs 3's string parser leaves `\XX` escapes undecoded in assertion
// values (it sends `a\2a` as the four bytes `a\2a`), so an escaped user name would never match
// and escapes written in a configured template would be silently wrong. Here every value is
// escaped, substituted, and decoded back to its exact bytes by this parser, so the server
// compares the user name as typed, and no character of it can change the filter's structure.
// No ldapjs import: the config layer validates templates with it too.

/** A parsed filter; assertion values are the exact bytes the server receives. */
export type FilterNode =
  | { type: 'and' | 'or'; filters: FilterNode[] }
  | { type: 'not'; filter: FilterNode }
  | { type: 'equal' | 'approx' | 'ge' | 'le'; attribute: string; value: Buffer }
  | { type: 'present'; attribute: string }
  | { type: 'substring'; attribute: string; initial?: Buffer; any: Buffer[]; final?: Buffer }
  | { type: 'extensible'; attribute?: string; rule?: string; dnAttributes: boolean; value: Buffer };

export class FilterSyntaxError extends Error {}

/**
 * RFC 4515 value escaping. Beyond the five characters the RFC requires (`*`, `(`, `)`, `\`, NUL),
 * every byte outside printable ASCII is written as `\XX` too, so the filter text is plain ASCII
 * and the round trip through parseFilter gives back exactly the UTF-8 bytes of the input.
 */
export function escapeFilterValue(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const special = byte === 0x2a || byte === 0x28 || byte === 0x29 || byte === 0x5c;
    out += byte < 0x20 || byte > 0x7e || special ? `\\${byte.toString(16).padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}

/** Replaces `{name}` placeholders with the escaped values; unknown placeholders are left as text. */
export function substitute(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(values, name) ? escapeFilterValue(values[name]!) : whole));
}

/** Placeholders used in a template, e.g. ['username']. */
export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
}

/** Substitutes, then parses: the filter to send. Throws FilterSyntaxError. */
export function renderFilter(template: string, values: Record<string, string>): FilterNode {
  return parseFilter(substitute(template, values));
}

// attributedescription: a name or a numeric OID, with ;options (RFC 4512).
const ATTRIBUTE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)(?:;[A-Za-z0-9-]+)*/;
const RULE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)/;
/** Templates are short; a bound keeps a hostile value from building a deep or huge tree. */
const MAX_LENGTH = 8192;
const MAX_DEPTH = 32;

export function parseFilter(text: string): FilterNode {
  if (text.length > MAX_LENGTH) throw new FilterSyntaxError(`filter longer than ${MAX_LENGTH} characters`);
  // As ldapsearch and most tools: the outer parentheses may be left out.
  const source = text.trim().startsWith('(') ? text.trim() : `(${text.trim()})`;
  const p = new Parser(source);
  const node = p.filter(0);
  if (p.pos !== source.length) throw new FilterSyntaxError(`unexpected text at offset ${p.pos}`);
  return node;
}

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  filter(depth: number): FilterNode {
    if (depth > MAX_DEPTH) throw new FilterSyntaxError('filter nested too deeply');
    this.expect('(');
    let node: FilterNode;
    const c = this.s[this.pos];
    if (c === '&' || c === '|') {
      this.pos++;
      const filters = this.list(depth);
      node = { type: c === '&' ? 'and' : 'or', filters };
    } else if (c === '!') {
      this.pos++;
      this.skipSpace();
      node = { type: 'not', filter: this.filter(depth + 1) };
      this.skipSpace();
    } else node = this.item();
    this.expect(')');
    return node;
  }

  private list(depth: number): FilterNode[] {
    const filters: FilterNode[] = [];
    this.skipSpace();
    while (this.s[this.pos] === '(') {
      filters.push(this.filter(depth + 1));
      this.skipSpace();
    }
    // RFC 4526 allows (&) and (|) as absolute true/false, but in a template it is a mistake.
    if (filters.length === 0) throw new FilterSyntaxError(`empty filter list at offset ${this.pos}`);
    return filters;
  }

  private item(): FilterNode {
    const start = this.pos;
    const attribute = this.match(ATTRIBUTE);
    const rest = this.s.slice(this.pos);
    if (rest.startsWith(':')) return this.extensible(attribute);
    if (attribute === undefined) throw new FilterSyntaxError(`expected an attribute name at offset ${start}`);
    for (const [op, type] of [['~=', 'approx'], ['>=', 'ge'], ['<=', 'le']] as const) {
      if (rest.startsWith(op)) {
        this.pos += 2;
        return { type, attribute, value: this.value(false)[0]! };
      }
    }
    this.expect('=');
    const parts = this.value(true);
    if (parts.length === 1) return { type: 'equal', attribute, value: parts[0]! };
    // parts split at unescaped '*': [initial, any..., final]; empty ends are absent.
    if (parts.length === 2 && parts[0]!.length === 0 && parts[1]!.length === 0) return { type: 'present', attribute };
    const initial = parts[0]!;
    const final = parts[parts.length - 1]!;
    const any = parts.slice(1, -1);
    if (any.some((a) => a.length === 0)) throw new FilterSyntaxError(`empty substring (**) at offset ${start}`);
    return { type: 'substring', attribute, ...(initial.length && { initial }), any, ...(final.length && { final }) };
  }

  /** `attr[:dn][:rule]:=value` or `[:dn]:rule:=value` (e.g. AD's nested membership rule). */
  private extensible(attribute: string | undefined): FilterNode {
    let dnAttributes = false;
    let rule: string | undefined;
    if (/^:dn:/i.test(this.s.slice(this.pos, this.pos + 4))) {
      dnAttributes = true;
      this.pos += 3;
    }
    if (this.s.startsWith(':=', this.pos)) this.pos += 2;
    else {
      this.expect(':');
      rule = this.match(RULE);
      if (rule === undefined) throw new FilterSyntaxError(`expected a matching rule at offset ${this.pos}`);
      this.expect(':');
      this.expect('=');
    }
    if (attribute === undefined && rule === undefined) throw new FilterSyntaxError('an extensible match needs an attribute or a matching rule');
    return { type: 'extensible', ...(attribute !== undefined && { attribute }), ...(rule !== undefined && { rule }), dnAttributes, value: this.value(false)[0]! };
  }

  /** An assertion value up to ')', decoded; with `stars`, split at unescaped '*'. */
  private value(stars: boolean): Buffer[] {
    const parts: Buffer[] = [];
    let bytes: number[] = [];
    for (;;) {
      const c = this.s[this.pos];
      if (c === undefined) throw new FilterSyntaxError('missing ")"');
      if (c === ')') break;
      if (c === '(') throw new FilterSyntaxError(`unescaped "(" in a value at offset ${this.pos}`);
      if (c === '*') {
        if (!stars) throw new FilterSyntaxError(`unescaped "*" in a value at offset ${this.pos}`);
        parts.push(Buffer.from(bytes));
        bytes = [];
        this.pos++;
      } else if (c === '\\') {
        const hex = this.s.slice(this.pos + 1, this.pos + 3);
        if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new FilterSyntaxError(`invalid escape at offset ${this.pos} (expected \\ and two hex digits)`);
        bytes.push(parseInt(hex, 16));
        this.pos += 3;
      } else {
        const cp = this.s.codePointAt(this.pos)!;
        for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
        this.pos += cp > 0xffff ? 2 : 1;
      }
    }
    parts.push(Buffer.from(bytes));
    return parts;
  }

  private match(re: RegExp): string | undefined {
    const m = re.exec(this.s.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  private expect(c: string): void {
    if (this.s[this.pos] !== c) throw new FilterSyntaxError(`expected "${c}" at offset ${this.pos}`);
    this.pos++;
  }

  private skipSpace(): void {
    while (this.s[this.pos] === ' ' || this.s[this.pos] === '\n' || this.s[this.pos] === '\t') this.pos++;
  }
}
