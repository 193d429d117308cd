// Distinguished names (RFC 4514) as the directory writes them, split into RDNs of
// [attribute, value] pairs with the values unescaped, so that group DNs can be compared however a
// directory or an administrator spelled them. ldapts builds DNs (its DN and RDN classes escape)
// but has no parser, hence this one. Also accepted, as RFC 4514 section 4 asks of readers: the
// RFC 2253/1779 forms (`;` between RDNs, quoted values). A `#hex` value (BER) is kept as written.

export class DnSyntaxError extends Error {}

/** The RDNs of a DN, each a list of [lower-cased attribute, unescaped value]; throws DnSyntaxError. */
export function parseDn(dn: string): [string, string][][] {
  const rdns: [string, string][][] = [];
  let pos = 0;
  const skipSpace = () => {
    while (dn[pos] === ' ') pos++;
  };
  skipSpace();
  if (pos === dn.length) return rdns;
  let rdn: [string, string][] = [];
  for (;;) {
    skipSpace();
    const type = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)/.exec(dn.slice(pos))?.[0];
    if (type === undefined) throw new DnSyntaxError(`expected an attribute type at offset ${pos}`);
    pos += type.length;
    skipSpace();
    if (dn[pos] !== '=') throw new DnSyntaxError(`expected "=" at offset ${pos}`);
    pos++;
    skipSpace();
    rdn.push([type.toLowerCase(), value()]);
    skipSpace();
    const sep = dn[pos];
    if (sep === undefined) break;
    pos++;
    if (sep === '+') continue;
    if (sep !== ',' && sep !== ';') throw new DnSyntaxError(`unexpected "${sep}" at offset ${pos - 1}`);
    rdns.push(rdn);
    rdn = [];
  }
  rdns.push(rdn);
  return rdns;

  /** A value up to the next unescaped separator; trailing unescaped spaces are not part of it. */
  function value(): string {
    if (dn[pos] === '#') {
      const hex = /^#(?:[0-9A-Fa-f]{2})+/.exec(dn.slice(pos))?.[0];
      if (hex === undefined) throw new DnSyntaxError(`invalid #hex value at offset ${pos}`);
      pos += hex.length;
      return hex.toLowerCase();
    }
    if (dn[pos] === '"') {
      const end = dn.indexOf('"', pos + 1);
      if (end < 0) throw new DnSyntaxError(`unterminated quoted value at offset ${pos}`);
      const quoted = dn.slice(pos + 1, end);
      pos = end + 1;
      return quoted;
    }
    const bytes: number[] = [];
    let kept = 0; // length of `bytes` up to the last character that is not an unescaped space
    for (;;) {
      const c = dn[pos];
      if (c === undefined || c === ',' || c === ';' || c === '+') break;
      if (c === '\\') {
        const hex = dn.slice(pos + 1, pos + 3);
        if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
          bytes.push(parseInt(hex, 16));
          pos += 3;
        } else if (dn[pos + 1] !== undefined && ' "#+,;<=>\\'.includes(dn[pos + 1]!)) {
          bytes.push(dn.charCodeAt(pos + 1));
          pos += 2;
        } else throw new DnSyntaxError(`invalid escape at offset ${pos}`);
        kept = bytes.length;
        continue;
      }
      const cp = dn.codePointAt(pos)!;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
      pos += cp > 0xffff ? 2 : 1;
      if (c !== ' ') kept = bytes.length;
    }
    return Buffer.from(bytes.slice(0, kept)).toString('utf8');
  }
}
