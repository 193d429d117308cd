// Browser harness for the console's tests: Debian's chromium (apt package `chromium`) driven by
// playwright-core. Never downloads a browser. Nothing here registers test hooks: a test file
// launches one browser in before(), opens a fresh context per test with openPage(), and closes
// both itself. Typical use:
//
//   describe('console: repositories', { skip: browserSkip }, () => {
//     let browser: Browser;
//     before(async () => { browser = await launchBrowser(); });
//     after(() => browser?.close());
//     it('renders the list', async () => {
//       const checked = await openPage(browser, { baseURL: registry.url });
//       try {
//         await checked.page.goto('/ui/');
//         await checkPage(checked, 'repositories');          // axe + repositories-light.png + clean
//       } finally {
//         await checked.close();
//       }
//       // The dark screenshot (and axe in dark colours, where contrast bugs hide) is a second
//       // context: openPage(browser, { baseURL, colorScheme: 'dark' }), goto, then checkPage(dark,
//       // 'repositories'), which writes repositories-dark.png.
//     });
//   });
//
// Axe under the console's CSP (script-src 'self'): page.addScriptTag({ content }) inserts an
// inline <script>, which the CSP blocks (and logs as a console error). page.evaluate(source) is
// not blocked: the DevTools protocol's Runtime.evaluate runs in the page's main world outside CSP,
// so axeViolations() injects axe that way and CSP-enforcement tests see the real policy. openPage
// still accepts bypassCSP for other tools that must inline scripts; a test that checks the CSP
// is enforced must never set it.
import { AssertionError } from 'node:assert';
import { accessSync, constants, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type CDPSession, type Page } from 'playwright-core';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const screenshotDir = join(repoRoot, 'test-output', 'screenshots');

const CHROMIUM = '/usr/bin/chromium';

// --disable-background-networking and friends: the machine's network is closed, and chromium's
// own background connections (component updates, sync, variations) get refused and log noise or
// stall startup. --disable-dev-shm-usage: Debian's wrapper means to add it when /dev/shm is small,
// but its check breaks when findmnt prints two lines, so we always pass it.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** /usr/bin/chromium when it is installed and executable, else undefined. */
export function chromiumPath(): string | undefined {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return CHROMIUM;
  } catch {
    return undefined;
  }
}

/** For describe(..., { skip: browserSkip }): false when chromium is there, else the reason. */
export const browserSkip: false | string = chromiumPath() ? false : 'chromium is not installed (apt-get install chromium)';

/** Starts headless chromium. One per test file (2 cores): reuse it, open a context per test. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(String(browserSkip));
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

export interface OpenPageOptions {
  /** Where the page's relative URLs go; requests to any other origin are aborted and reported. */
  baseURL: string;
  javaScriptEnabled?: boolean;
  /** Default 'light', so screenshots do not depend on playwright's default. */
  colorScheme?: 'light' | 'dark';
  locale?: string;
  storageState?: BrowserContextOptions['storageState'];
  extraHTTPHeaders?: Record<string, string>;
  /** Disables the page's CSP. Not needed for axe (see the top of this file); never set it in a test of the CSP. */
  bypassCSP?: boolean;
}

export interface CheckedPage {
  page: Page;
  context: BrowserContext;
  colorScheme: 'light' | 'dark';
  /** Every console error, uncaught page error, foreign-origin request and 5xx response so far. */
  problems(): string[];
  /** Throws an AssertionError listing problems() when there are any. */
  assertClean(): void;
  close(): Promise<void>;
}

// axe needs timers, which never fire in a context with JavaScript disabled, so axeViolations turns
// script execution on just for its run there (the page's own scripts were skipped at load and do
// not run later). Chromium quirks, found by trial: setting `false` from a new DevTools session is
// a no-op until that session has set `true` once; and detaching the session drops its override,
// re-enabling scripts, so the session is kept for the page's lifetime instead.
const noScriptContexts = new WeakSet<BrowserContext>();
const scriptSwitches = new WeakMap<Page, CDPSession>();

async function withScriptsEnabled<T>(page: Page, fn: () => Promise<T>): Promise<T> {
  if (!noScriptContexts.has(page.context())) return fn();
  let cdp = scriptSwitches.get(page);
  if (!cdp) {
    cdp = await page.context().newCDPSession(page);
    scriptSwitches.set(page, cdp);
    await cdp.send('Emulation.setScriptExecutionDisabled', { value: true });
  }
  await cdp.send('Emulation.setScriptExecutionDisabled', { value: false });
  try {
    return await fn();
  } finally {
    await cdp.send('Emulation.setScriptExecutionDisabled', { value: true }).catch(() => undefined); // page closed: nothing to restore
  }
}

/** A fresh context and page that records everything a console page should never do. */
export async function openPage(browser: Browser, opts: OpenPageOptions): Promise<CheckedPage> {
  const origin = new URL(opts.baseURL).origin;
  const colorScheme = opts.colorScheme ?? 'light';
  const context = await browser.newContext({
    baseURL: opts.baseURL,
    javaScriptEnabled: opts.javaScriptEnabled ?? true,
    colorScheme,
    locale: opts.locale,
    storageState: opts.storageState,
    extraHTTPHeaders: opts.extraHTTPHeaders,
    bypassCSP: opts.bypassCSP ?? false,
  });
  if (opts.javaScriptEnabled === false) noScriptContexts.add(context);
  const found: string[] = [];

  // Aborted, not just reported: no test may reach the network, and a page that loads a font or
  // script from a CDN would otherwise pass here and break on an air-gapped registry.
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (sameOrigin(url, origin)) return route.continue();
    found.push(`request to another origin (aborted): ${route.request().method()} ${url}`);
    return route.abort('blockedbyclient');
  });
  // Context-level events, so a popup or a second page the test opens is watched too.
  context.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const at = msg.location().url ? ` (${msg.location().url}:${msg.location().lineNumber})` : '';
    found.push(`console error: ${msg.text()}${at}`);
  });
  context.on('weberror', (err) => found.push(`page error: ${err.error().stack ?? err.error().message}`));
  context.on('response', (res) => {
    if (res.status() >= 500) found.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
  });

  const page = await context.newPage();
  let closed = false;
  return {
    page,
    context,
    colorScheme,
    problems: () => [...found],
    assertClean() {
      if (found.length === 0) return;
      throw new AssertionError({ message: `page problems:\n${found.map((p) => `- ${p}`).join('\n')}`, actual: [...found], expected: [], operator: 'deepStrictEqual' });
    },
    async close() {
      if (closed) return;
      closed = true;
      await context.close();
    },
  };
}

function sameOrigin(url: string, origin: string): boolean {
  const u = new URL(url);
  // data: and blob: never leave the browser (a blob: URL's origin is its creator's anyway).
  return u.protocol === 'data:' || u.protocol === 'blob:' || u.origin === origin;
}

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  /** One selector per failing element; ' >> ' steps into a shadow root, ' | ' into an iframe. */
  nodes: string[];
}

let axeSource: string | undefined;
function axeScript(): string {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** Runs axe-core on the page (WCAG 2.2 AA rules) and returns the violations of the given impacts. */
export async function axeViolations(page: Page, impacts: string[] = ['serious', 'critical']): Promise<AxeViolation[]> {
  return withScriptsEnabled(page, async () => {
    // Every frame, or axe in the top frame waits for an answer from frames without axe. Once per
    // document: checkPage after axeViolations on the same page need not parse 500 kB again.
    for (const frame of page.frames()) {
      // The source itself, not eval() of it: the CSP blocks eval in the page (no 'unsafe-eval').
      const inject = async () => {
        if (!(await frame.evaluate(() => 'axe' in window))) await frame.evaluate(axeScript());
      };
      if (frame === page.mainFrame()) await inject();
      else await inject().catch(() => undefined); // a subframe that went away has nothing to check
    }
    const violations = await page.evaluate(async (tags) => {
      type Target = string | string[];
      interface AxeResult {
        violations: { id: string; impact?: string | null; help: string; nodes: { target: Target[] }[] }[];
      }
      const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<AxeResult> } }).axe;
      const result = await axe.run(document, { runOnly: { type: 'tag', values: tags } });
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact ?? 'unknown',
        help: v.help,
        nodes: v.nodes.map((n) => n.target.map((t) => (Array.isArray(t) ? t.join(' >> ') : t)).join(' | ')),
      }));
    }, AXE_TAGS);
    return violations.filter((v) => impacts.includes(v.impact));
  });
}

/** Readable report of axe violations for an assertion message. */
export function formatViolations(violations: AxeViolation[]): string {
  return violations
    .map((v) => `- ${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n}`).join('\n')}`)
    .join('\n');
}

/** Full-page PNG at test-output/screenshots/<name>.png; logs and returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(screenshotDir, `${name.replace(/[^A-Za-z0-9_.-]+/g, '-')}.png`);
  await mkdir(screenshotDir, { recursive: true });
  // Animations off and caret hidden, so two runs of the same page give the same picture.
  await page.screenshot({ path, fullPage: true, animations: 'disabled', caret: 'hide' });
  console.log(`screenshot: ${path}`);
  return path;
}

/**
 * The standard check of a console page after navigation: no serious or critical axe violation,
 * a screenshot named <name>-<colorScheme>, and no problems recorded. Returns the screenshot path.
 */
export async function checkPage(checked: CheckedPage, name: string): Promise<string> {
  const violations = await axeViolations(checked.page);
  const path = await screenshot(checked.page, `${name}-${checked.colorScheme}`);
  if (violations.length) {
    throw new AssertionError({
      message: `${name}: ${violations.length} serious/critical accessibility violation(s) (screenshot ${path}):\n${formatViolations(violations)}`,
      actual: violations.map((v) => v.id),
      expected: [],
      operator: 'deepStrictEqual',
    });
  }
  checked.assertClean();
  return path;
}
