// The console's message catalogues and locale formatting. Every string a page shows comes from a
// catalogue: en/ is the reference, zh-CN/ must have the same keys (its type says so, and a test
// renders every page in both and fails on a missing key). Placeholders are {name}; a count that
// changes the words is {name, plural, one {# tag} other {# tags}} (ICU's syntax, its subset: the
// categories of Intl.PluralRules or =N, # is the value; Chinese needs none).
import { en, type MessageKey } from './en/index.ts';
import { zhCN } from './zh-CN/index.ts';

export type { MessageKey };
export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

const CATALOGUES: Record<Locale, Record<MessageKey, string>> = { en, 'zh-CN': zhCN };

/** The best locale for an Accept-Language header (q-values honoured; any zh goes to zh-CN). */
export function negotiateLocale(header: string | undefined): Locale {
  if (!header) return 'en';
  const ranked = header
    .split(',')
    .map((part, i) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag: tag.trim().toLowerCase(), q: q ? Number(q.slice(2)) || 0 : 1, i };
    })
    .filter((r) => r.tag && r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of ranked) {
    if (tag === 'zh' || tag.startsWith('zh-')) return 'zh-CN';
    if (tag === 'en' || tag.startsWith('en-') || tag === '*') return 'en';
  }
  return 'en';
}

export function isLocale(v: unknown): v is Locale {
  return typeof v === 'string' && (LOCALES as readonly string[]).includes(v);
}

export type Params = Record<string, string | number>;

export interface Translator {
  locale: Locale;
  t(key: MessageKey, params?: Params): string;
  /** A byte count in binary units (1.5 MiB), per locale. */
  bytes(n: number): string;
  number(n: number): string;
  /** A date and time in the locale's format, in UTC (the server does not know the viewer's zone). */
  dateTime(ms: number): string;
  /** "3 days ago" / "3天前". */
  ago(ms: number, now?: number): string;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** {name, plural, one {…} other {…}}: the forms hold no braces of their own. */
const PLURAL = /\{(\w+), ?plural, ?((?:\s*(?:=\d+|zero|one|two|few|many|other)\s*\{[^{}]*\})+)\s*\}/g;
const FORM = /(=\d+|zero|one|two|few|many|other)\s*\{([^{}]*)\}/g;

/**
 * The form for a count. The value may come formatted (t.number(1234) is "1,234"): its digits are
 * the count. # in the form is the value as given.
 */
function pluralForm(rules: Intl.PluralRules, forms: string, value: string | number): string {
  const n = typeof value === 'number' ? value : Number(String(value).replace(/[^\d.-]/g, ''));
  const byKey = new Map([...forms.matchAll(FORM)].map((f) => [f[1]!, f[2]!]));
  const form = byKey.get(`=${n}`) ?? (Number.isFinite(n) ? byKey.get(rules.select(n)) : undefined) ?? byKey.get('other') ?? '';
  return form.replace(/#/g, String(value));
}

export function translator(locale: Locale): Translator {
  const catalogue = CATALOGUES[locale];
  const num = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const dt = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  const rel = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const plural = new Intl.PluralRules(locale);
  return {
    locale,
    t(key, params) {
      const text = catalogue[key];
      if (text === undefined) throw new Error(`console: no message ${String(key)} in ${locale}`);
      if (!params) return text;
      return text
        .replace(PLURAL, (m, name: string, forms: string) => (name in params ? pluralForm(plural, forms, params[name]!) : m))
        .replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
    },
    bytes(n) {
      let i = 0;
      let v = n;
      while (v >= 1024 && i < UNITS.length - 1) {
        v /= 1024;
        i++;
      }
      return `${num.format(v)} ${UNITS[i]}`;
    },
    number: (n) => num.format(n),
    dateTime: (ms) => `${dt.format(new Date(ms))} UTC`,
    ago(ms, now = Date.now()) {
      const s = Math.round((ms - now) / 1000);
      const abs = Math.abs(s);
      if (abs < 60) return rel.format(s, 'second');
      if (abs < 3600) return rel.format(Math.round(s / 60), 'minute');
      if (abs < 86_400) return rel.format(Math.round(s / 3600), 'hour');
      if (abs < 30 * 86_400) return rel.format(Math.round(s / 86_400), 'day');
      if (abs < 365 * 86_400) return rel.format(Math.round(s / (30 * 86_400)), 'month');
      return rel.format(Math.round(s / (365 * 86_400)), 'year');
    },
  };
}
