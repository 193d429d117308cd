// berth.auth.ldap (distribution has no LDAP): defaults and the rules checked before start, so a
// mistake stops berth with the key's name instead of failing every login. As everywhere in the
// config layer, messages name keys and never quote values (bindpassword least of all).
import { FilterSyntaxError, parseFilter, placeholdersOf, substitute } from '../auth/ldap/filter.ts';
import type { FileConfig } from './schema.ts';
import type { Warning } from './keytree.ts';
import { ConfigError, type LdapConfig } from './types.ts';

type FileLdap = NonNullable<NonNullable<NonNullable<FileConfig['berth']>['auth']>['ldap']>;

const KEY = 'berth.auth.ldap';

export const LDAP_DEFAULTS = {
  userFilter: '(&(objectClass=person)(uid={username}))',
  usernameAttribute: 'uid',
  displayNameAttribute: 'displayName',
  emailAttribute: 'mail',
  groupAttribute: 'memberOf',
  connectTimeoutMs: 5_000,
  timeoutMs: 10_000,
  cacheTtlMs: 60_000,
} as const;

export function buildLdap(l: FileLdap | undefined, warnings: Warning[]): { ldap?: LdapConfig } {
  if (!l) return {};
  if (l.url === undefined) throw new ConfigError(`config: ${KEY}.url: required (ldap://host or ldaps://host)`, `${KEY}.url`);
  if (l.basedn === undefined) throw new ConfigError(`config: ${KEY}.basedn: required (where users are searched, e.g. dc=example,dc=org)`, `${KEY}.basedn`);
  const urls = typeof l.url === 'string' ? [l.url] : l.url;
  urls.forEach((u, i) => checkUrl(u, typeof l.url === 'string' ? `${KEY}.url` : `${KEY}.url.${i}`));
  const startTls = l.starttls ?? false;
  if (startTls && urls.some((u) => u.toLowerCase().startsWith('ldaps:'))) {
    throw new ConfigError(`config: ${KEY}.starttls: not with an ldaps:// url (the connection is already TLS); use ldap:// with starttls, or ldaps:// alone`, `${KEY}.starttls`);
  }
  // A DN with an empty password is an "unauthenticated bind" (RFC 4513 5.1.2): it succeeds on
  // many servers without checking anything, so both or neither.
  if (l.binddn && !l.bindpassword) throw new ConfigError(`config: ${KEY}.bindpassword: required with ${KEY}.binddn`, `${KEY}.bindpassword`);
  if (!l.binddn && l.bindpassword) throw new ConfigError(`config: ${KEY}.binddn: required with ${KEY}.bindpassword`, `${KEY}.binddn`);

  const userFilter = l.userfilter ?? LDAP_DEFAULTS.userFilter;
  checkFilter(userFilter, `${KEY}.userfilter`, ['username'], ['username']);
  if (l.groupfilter !== undefined) checkFilter(l.groupfilter, `${KEY}.groupfilter`, ['dn', 'username'], []);
  for (const [key, value] of [['usernameattribute', l.usernameattribute], ['displaynameattribute', l.displaynameattribute], ['emailattribute', l.emailattribute], ['groupattribute', l.groupattribute]] as const) {
    if (value && !/^[A-Za-z][A-Za-z0-9-]*$/.test(value)) throw new ConfigError(`config: ${KEY}.${key}: expected an attribute name such as uid, mail or memberOf`, `${KEY}.${key}`);
  }

  // The admin API's rule for team names (src/auth/access/admin/schemas.ts): a mapping to any
  // other name could never reach a team.
  for (const team of Object.values(l.teammapping ?? {})) {
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(team)) throw new ConfigError(`config: ${KEY}.teammapping: team names are lower-case letters, digits, . _ - (up to 64)`, `${KEY}.teammapping`);
  }

  const insecureSkipVerify = l.insecureskipverify ?? false;
  const tlsUsed = startTls || urls.some((u) => u.toLowerCase().startsWith('ldaps:'));
  if (insecureSkipVerify && tlsUsed) {
    warnings.push({ text: `${KEY}.insecureskipverify: the directory's certificate is not checked; anyone on the network path can pose as the directory and read every password`, loud: true });
  }
  if (!tlsUsed && urls.some((u) => !isLoopback(u))) {
    warnings.push({ text: `${KEY}: passwords are sent to the directory in clear text; use an ldaps:// url or starttls: true`, loud: true });
  }
  if (l.cafile !== undefined && !tlsUsed) warnings.push({ text: `${KEY}.cafile is not used without TLS (an ldaps:// url or starttls: true)` });

  return {
    ldap: {
      urls,
      ...(l.binddn && { bindDn: l.binddn, bindPassword: l.bindpassword }),
      baseDn: l.basedn,
      userFilter,
      usernameAttribute: l.usernameattribute ?? LDAP_DEFAULTS.usernameAttribute,
      displayNameAttribute: l.displaynameattribute ?? LDAP_DEFAULTS.displayNameAttribute,
      emailAttribute: l.emailattribute ?? LDAP_DEFAULTS.emailAttribute,
      groupAttribute: l.groupattribute ?? LDAP_DEFAULTS.groupAttribute,
      ...(l.groupfilter !== undefined && { groupFilter: l.groupfilter }),
      groupBaseDn: l.groupbasedn ?? l.basedn,
      adminGroups: l.admingroups ?? [],
      teamMapping: l.teammapping ?? {},
      startTls,
      ...(l.cafile !== undefined && { caFile: l.cafile }),
      insecureSkipVerify,
      connectTimeoutMs: l.connecttimeout ?? LDAP_DEFAULTS.connectTimeoutMs,
      timeoutMs: l.timeout ?? LDAP_DEFAULTS.timeoutMs,
      cacheTtlMs: l.cachettl ?? LDAP_DEFAULTS.cacheTtlMs,
    },
  };
}

function checkUrl(u: string, key: string): void {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw new ConfigError(`config: ${key}: expected an ldap:// or ldaps:// URL such as ldaps://ldap.example.org`, key);
  }
  if ((url.protocol !== 'ldap:' && url.protocol !== 'ldaps:') || url.hostname === '') {
    throw new ConfigError(`config: ${key}: expected an ldap:// or ldaps:// URL such as ldaps://ldap.example.org`, key);
  }
  // Credentials in the URL would be ignored by the client and end up in logs: binddn/bindpassword.
  if (url.username || url.password) throw new ConfigError(`config: ${key}: must not contain credentials; use binddn and bindpassword`, key);
  if ((url.pathname && url.pathname !== '/') || url.search) throw new ConfigError(`config: ${key}: only scheme, host and port are used; set basedn and userfilter separately`, key);
}

/** The template parses once its placeholders are filled, and uses only the allowed ones. */
function checkFilter(template: string, key: string, allowed: string[], required: string[]): void {
  const used = placeholdersOf(template);
  const unknown = used.find((p) => !allowed.includes(p));
  if (unknown !== undefined) throw new ConfigError(`config: ${key}: unknown placeholder {${unknown}} (use ${allowed.map((a) => `{${a}}`).join(' or ')})`, key);
  for (const r of required) if (!used.includes(r)) throw new ConfigError(`config: ${key}: must contain {${r}}`, key);
  if (required.length === 0 && used.length === 0) throw new ConfigError(`config: ${key}: must contain ${allowed.map((a) => `{${a}}`).join(' or ')}, or every user would get every group`, key);
  try {
    parseFilter(substitute(template, Object.fromEntries(allowed.map((a) => [a, 'x']))));
  } catch (e) {
    if (e instanceof FilterSyntaxError) throw new ConfigError(`config: ${key}: not a valid LDAP filter (RFC 4515): ${e.message}`, key);
    throw e;
  }
}

function isLoopback(u: string): boolean {
  try {
    const host = new URL(u).hostname.replace(/^\[(.*)\]$/, '$1');
    return host === 'localhost' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}
