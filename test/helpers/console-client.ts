// The console over plain HTTP, as a browser without JavaScript uses it: a cookie jar, pages read
// with their CSRF token, form posts that never follow redirects. Shared by the console's HTTP tests.
import assert from 'node:assert/strict';

export class ConsoleClient {
  readonly cookies = new Map<string, string>();
  /** The CSRF token of the last page that had a form. */
  token = '';

  constructor(
    readonly base: string,
    readonly lang = 'en',
  ) {}

  async get(path: string): Promise<Response> {
    return this.keep(await fetch(this.base + path, { headers: { cookie: this.cookieHeader(), 'accept-language': this.lang }, redirect: 'manual' }));
  }

  /** GET, expecting `status`; the body (and the page's CSRF token, kept for the next post). */
  async page(path: string, status = 200): Promise<string> {
    const res = await this.get(path);
    const text = await res.text();
    assert.equal(res.status, status, `GET ${path}: ${res.status}\n${text.slice(0, 3000)}`);
    const m = /name="_csrf" value="([^"]+)"/.exec(text);
    if (m) this.token = m[1]!;
    return text;
  }

  /** A form post; with `csrf: false` the token is left out, with `cookies: false` the cookies too. */
  async post(path: string, form: Record<string, string | string[]>, o: { csrf?: boolean; cookies?: boolean } = {}): Promise<Response> {
    const body = new URLSearchParams();
    if (o.csrf !== false) body.append('_csrf', this.token);
    for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    return this.keep(
      await fetch(this.base + path, {
        method: 'POST',
        headers: { ...(o.cookies !== false && { cookie: this.cookieHeader() }), 'content-type': 'application/x-www-form-urlencoded', 'accept-language': this.lang },
        body,
        redirect: 'manual',
      }),
    );
  }

  /** POST expecting a 303 to `to` (the whole location, when given); then the page it leads to, with its notice. */
  async submit(path: string, form: Record<string, string | string[]> = {}, to?: string): Promise<string> {
    const res = await this.post(path, form);
    const text = await res.text();
    assert.equal(res.status, 303, `POST ${path}: ${res.status}\n${text.slice(0, 3000)}`);
    const location = res.headers.get('location')!;
    if (to !== undefined) assert.equal(location, to, `POST ${path} went to ${location}`);
    return this.page(location);
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: Response): Response {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const [k, v] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)];
      if (attrs.some((a) => /max-age=0/i.test(a.trim()))) this.cookies.delete(k);
      else this.cookies.set(k, v);
    }
    return res;
  }
}

/**
 * For tests that put the CSRF token into each form themselves, or leave it out to see the refusal:
 * posts carry only the fields given.
 */
export class ConsoleFormClient extends ConsoleClient {
  override post(path: string, form: Record<string, string | string[]>, o: { cookies?: boolean } = {}): Promise<Response> {
    return super.post(path, form, { ...o, csrf: false });
  }

  /** The _csrf hidden field of the page at `path` (its first form). */
  async csrf(path: string): Promise<string> {
    const m = /name="_csrf" value="([^"]+)"/.exec(await this.page(path));
    assert.ok(m, `no _csrf on ${path}`);
    return m[1]!;
  }
}

/** A page's text with the tags removed and whitespace collapsed. */
export function textOf(html: string): string {
  return html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}
