// HTML built from tagged templates that escape every interpolated value. Text from the store
// (repository names, descriptions, labels, annotations) can only reach a page as text: markup is
// either a literal in a template or an Html value made by one, or by `trusted()` for the few
// producers that sanitise themselves (the Markdown renderer).
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** Markup that is already safe to send. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** What a template accepts: text (escaped), numbers, Html, nothing (empty), or lists of these. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(v: HtmlValue): string {
  if (v === null || v === undefined || v === false || v === true) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** Markup from a producer that sanitises its own output (never user text). */
export function trusted(markup: string): Html {
  return new Html(markup);
}

/** Attributes from a map: false/undefined leave the attribute out, true writes it bare. */
export function attrs(map: Record<string, string | number | boolean | undefined | null>): Html {
  let out = '';
  for (const [k, v] of Object.entries(map)) {
    if (v === undefined || v === null || v === false) continue;
    out += v === true ? ` ${k}` : ` ${k}="${escapeHtml(String(v))}"`;
  }
  return new Html(out);
}
