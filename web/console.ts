// berth's web console: the one client script. Every page works without it (the server renders
// confirmation pages, sorted and filtered lists, a preferences form); this script only adds
// conveniences on top of the markup contract described in web/README.md:
// copy buttons, modal dialogs, table filtering, sorting and bulk selection, keyboard shortcuts,
// the theme toggle and auto-submitting selects.
//
// It runs under the pages' CSP (script-src 'self', style-src 'self', no eval): no inline styles,
// no eval or Function, no network. Bundled by scripts/build-web.mjs (esbuild, IIFE, es2020).
//
// The test project typechecks this file (test/console/client-script.test.ts references it).
export {};

const doc = document;
const root = doc.documentElement;
root.classList.add('js');

const FOCUSABLE =
  'a[href],button:not([disabled]),input:not([disabled]):not([type=hidden]),select:not([disabled]),textarea:not([disabled]),[tabindex]:not([tabindex="-1"]),summary';

function all<E extends Element = HTMLElement>(selector: string, scope: ParentNode = doc): E[] {
  return Array.from(scope.querySelectorAll<E>(selector));
}

/** `{n} shown` + 3 -> `3 shown`. */
function fill(template: string, n: number): string {
  return template.split('{n}').join(String(n));
}

// ---- Live region -------------------------------------------------------------------------------

let announceTimer = 0;
/** Says `text` through #status; the same text twice in a row is announced twice. */
function announce(text: string): void {
  const status = doc.getElementById('status');
  if (!status) return;
  status.textContent = '';
  window.clearTimeout(announceTimer);
  announceTimer = window.setTimeout(() => {
    status.textContent = text;
  }, 60);
}

// ---- 1. Copy -----------------------------------------------------------------------------------

async function writeClipboard(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Denied or unavailable: try the old way.
  }
  const active = doc.activeElement as HTMLElement | null;
  const buffer = doc.createElement('textarea');
  buffer.value = text;
  buffer.setAttribute('readonly', '');
  buffer.setAttribute('aria-hidden', 'true');
  buffer.tabIndex = -1;
  buffer.className = 'copy-buffer';
  doc.body.append(buffer);
  buffer.select();
  let ok = false;
  try {
    ok = doc.execCommand('copy');
  } catch {
    ok = false;
  }
  buffer.remove();
  active?.focus();
  return ok;
}

const restoreTimers = new WeakMap<HTMLElement, number>();
async function copy(button: HTMLButtonElement): Promise<void> {
  const ok = await writeClipboard(button.dataset.copy ?? '');
  const label = ok ? button.dataset.copiedLabel || 'Copied' : button.dataset.copyFailedLabel;
  if (!label) return;
  announce(label);
  if (!ok) return;
  if (button.dataset.label === undefined) button.dataset.label = button.textContent ?? '';
  button.textContent = label;
  button.classList.add('copied');
  window.clearTimeout(restoreTimers.get(button));
  restoreTimers.set(
    button,
    window.setTimeout(() => {
      button.textContent = button.dataset.label ?? '';
      button.classList.remove('copied');
    }, 1500),
  );
}

// ---- 2. Dialogs --------------------------------------------------------------------------------

function openDialog(dialog: HTMLDialogElement, opener: Element | null): void {
  if (dialog.open) return;
  dialog.showModal();
  const first = dialog.querySelector<HTMLElement>('[autofocus]') ?? dialog.querySelector<HTMLElement>(FOCUSABLE);
  first?.focus();
  dialog.addEventListener(
    'close',
    () => {
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    },
    { once: true },
  );
}

function canShowModal(el: Element | null): el is HTMLDialogElement {
  return el instanceof HTMLElement && el.tagName === 'DIALOG' && typeof (el as HTMLDialogElement).showModal === 'function';
}

// ---- Row groups (filtering and sorting) -------------------------------------------------------

interface RowGroup {
  main: HTMLTableRowElement;
  subs: HTMLTableRowElement[];
}

/** The rows of a tbody, each main row with the `tr.sub` detail rows that belong to it. */
function rowGroups(tbody: HTMLTableSectionElement): RowGroup[] {
  const groups: RowGroup[] = [];
  const byKey = new Map<string, RowGroup>();
  const orphans: HTMLTableRowElement[] = [];
  for (const row of Array.from(tbody.rows)) {
    if (!row.classList.contains('sub')) {
      const group: RowGroup = { main: row, subs: [] };
      groups.push(group);
      const key = row.dataset.row;
      if (key !== undefined) byKey.set(key, group);
      continue;
    }
    const parent = row.dataset.parent;
    const group = parent !== undefined ? byKey.get(parent) : groups[groups.length - 1];
    if (group) group.subs.push(row);
    else orphans.push(row);
  }
  // A sub row whose parent comes after it (or is absent) stays with the row before it.
  for (const row of orphans) {
    const parent = row.dataset.parent;
    const group = parent !== undefined ? byKey.get(parent) : undefined;
    if (group) group.subs.push(row);
    else {
      const prev = row.previousElementSibling;
      const owner = groups.find((g) => g.main === prev || g.subs.includes(prev as HTMLTableRowElement));
      if (owner) owner.subs.push(row);
    }
  }
  return groups;
}

function tableBodies(table: Element | null): HTMLTableSectionElement[] {
  return table instanceof HTMLTableElement ? Array.from(table.tBodies) : [];
}

// ---- 3. Filtering ------------------------------------------------------------------------------

const filterAnnounceTimers = new WeakMap<HTMLInputElement, number>();
function applyFilter(input: HTMLInputElement, speak: boolean): void {
  const table = doc.getElementById(input.dataset.filter ?? '');
  if (!table) return;
  const query = input.value.trim().toLocaleLowerCase();
  let shown = 0;
  for (const tbody of tableBodies(table)) {
    for (const { main, subs } of rowGroups(tbody)) {
      const text = [main, ...subs].map((r) => r.textContent ?? '').join(' ').toLocaleLowerCase();
      const hide = query !== '' && !text.includes(query);
      main.hidden = hide;
      for (const sub of subs) sub.hidden = hide;
      if (!hide) shown++;
    }
  }
  syncAllBulk();
  if (!speak) return;
  window.clearTimeout(filterAnnounceTimers.get(input));
  filterAnnounceTimers.set(
    input,
    window.setTimeout(() => announce(fill(input.dataset.filterStatus || '{n} shown', shown)), 400),
  );
}

// ---- 4. Sorting --------------------------------------------------------------------------------

type SortKind = 'text' | 'number' | 'date';

function cellValue(row: HTMLTableRowElement, column: number): string {
  const cell = row.cells[column];
  if (!cell) return '';
  return (cell.dataset.value ?? cell.textContent ?? '').trim();
}

function sortKey(value: string, kind: SortKind): number | string | null {
  if (value === '') return null;
  if (kind === 'number') {
    const n = Number.parseFloat(value.replace(/[\s,_]/g, ''));
    return Number.isNaN(n) ? null : n;
  }
  if (kind === 'date') {
    const t = Date.parse(value);
    return Number.isNaN(t) ? null : t;
  }
  return value;
}

function sortTable(table: HTMLTableElement, th: HTMLTableCellElement): void {
  const descending = th.getAttribute('aria-sort') === 'ascending';
  const kind = (['number', 'date'].includes(th.dataset.sort ?? '') ? th.dataset.sort : 'text') as SortKind;
  for (const other of all<HTMLTableCellElement>('th[data-sort]', table)) {
    if (other !== th) other.setAttribute('aria-sort', 'none');
  }
  th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
  const column = th.cellIndex;
  const collator = new Intl.Collator(root.lang || undefined, { numeric: true, sensitivity: 'base' });
  for (const tbody of tableBodies(table)) {
    const keyed = rowGroups(tbody).map((group) => ({ group, key: sortKey(cellValue(group.main, column), kind) }));
    keyed.sort((a, b) => {
      // Rows without a value go last in either direction.
      if (a.key === null || b.key === null) return a.key === null ? (b.key === null ? 0 : 1) : -1;
      const order =
        typeof a.key === 'number' && typeof b.key === 'number' ? a.key - b.key : collator.compare(String(a.key), String(b.key));
      return descending ? -order : order;
    });
    const fragment = doc.createDocumentFragment();
    for (const { group } of keyed) fragment.append(group.main, ...group.subs);
    tbody.append(fragment);
  }
}

function enhanceSortable(table: HTMLTableElement): void {
  for (const th of all<HTMLTableCellElement>('th[data-sort]', table)) {
    if (th.querySelector(':scope > button.sort')) continue;
    const button = doc.createElement('button');
    button.type = 'button';
    button.className = 'sort';
    button.append(...Array.from(th.childNodes));
    th.append(button);
    if (!th.hasAttribute('aria-sort')) th.setAttribute('aria-sort', 'none');
  }
}

// ---- 5. Bulk selection -------------------------------------------------------------------------

const lastClicked = new Map<string, HTMLInputElement>();

function bulkBoxes(group: string): HTMLInputElement[] {
  return all<HTMLInputElement>('input[type=checkbox][data-bulk]').filter((b) => b.dataset.bulk === group);
}

/** A box in a row hidden by the filter is not visible, so "select all" leaves it alone. */
function visible(box: HTMLElement): boolean {
  return !box.closest('[hidden]');
}

function syncBulk(group: string): void {
  const boxes = bulkBoxes(group);
  const selected = boxes.filter((b) => b.checked && !b.disabled).length;
  const shown = boxes.filter((b) => visible(b) && !b.disabled);
  const shownChecked = shown.filter((b) => b.checked).length;
  for (const head of all<HTMLInputElement>('input[type=checkbox][data-bulk-all]')) {
    if (head.dataset.bulkAll !== group) continue;
    head.checked = shown.length > 0 && shownChecked === shown.length;
    head.indeterminate = shownChecked > 0 && shownChecked < shown.length;
  }
  for (const count of all('[data-bulk-count]')) {
    if (count.dataset.bulkCount === group) count.textContent = fill(count.dataset.template || '{n}', selected);
  }
  for (const submit of all<HTMLButtonElement>('button[data-bulk-submit]')) {
    if (submit.dataset.bulkSubmit === group) submit.disabled = selected === 0;
  }
}

function syncAllBulk(): void {
  const groups = new Set<string>();
  for (const el of all('[data-bulk],[data-bulk-all],[data-bulk-count],[data-bulk-submit]')) {
    const group = el.dataset.bulk ?? el.dataset.bulkAll ?? el.dataset.bulkCount ?? el.dataset.bulkSubmit;
    if (group !== undefined) groups.add(group);
  }
  for (const group of groups) syncBulk(group);
}

function bulkClick(box: HTMLInputElement, shift: boolean): void {
  const group = box.dataset.bulk ?? '';
  const last = lastClicked.get(group);
  if (shift && last && last !== box && last.isConnected) {
    const boxes = bulkBoxes(group);
    const a = boxes.indexOf(last);
    const b = boxes.indexOf(box);
    if (a >= 0 && b >= 0) {
      for (const other of boxes.slice(Math.min(a, b), Math.max(a, b) + 1)) {
        if (visible(other) && !other.disabled) other.checked = box.checked;
      }
    }
  }
  lastClicked.set(group, box);
  syncBulk(group);
}

// ---- 7. Theme ----------------------------------------------------------------------------------

const THEMES = ['auto', 'dark', 'light'] as const;
type Theme = (typeof THEMES)[number];

function currentTheme(): Theme {
  const theme = root.dataset.theme as Theme | undefined;
  return theme && THEMES.includes(theme) ? theme : 'auto';
}

function labelThemeToggles(): void {
  const theme = currentTheme();
  for (const toggle of all('[data-theme-toggle]')) {
    toggle.hidden = false;
    toggle.dataset.state = theme;
    const label = toggle.getAttribute(`data-label-${theme}`);
    if (label) {
      toggle.setAttribute('aria-label', label);
      toggle.textContent = label;
    }
  }
}

function cycleTheme(): void {
  const next = THEMES[(THEMES.indexOf(currentTheme()) + 1) % THEMES.length];
  root.dataset.theme = next;
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  doc.cookie = `berth_theme=${next}; Path=/; Max-Age=31536000; SameSite=Strict${secure}`;
  labelThemeToggles();
}

// ---- 6. Keyboard -------------------------------------------------------------------------------

function typingIn(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

function onKeydown(event: KeyboardEvent): void {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  if (typingIn(event.target) || doc.querySelector('dialog[open]')) return;
  if (event.key === '/') {
    const search = doc.querySelector<HTMLInputElement>('[data-search]');
    if (!search) return;
    event.preventDefault();
    search.focus();
    if (typeof search.select === 'function') search.select();
  } else if (event.key === '?') {
    const shortcuts = doc.getElementById('shortcuts');
    if (!canShowModal(shortcuts)) return;
    event.preventDefault();
    openDialog(shortcuts, doc.activeElement);
  }
}

// ---- Events ------------------------------------------------------------------------------------

function onClick(event: MouseEvent): void {
  if (event.defaultPrevented || !(event.target instanceof Element)) return;
  const target = event.target;

  const copyButton = target.closest<HTMLButtonElement>('button[data-copy]');
  if (copyButton) {
    void copy(copyButton);
    return;
  }

  const opener = target.closest<HTMLElement>('[data-dialog]');
  if (opener) {
    // Ctrl/Cmd/Shift-click or a middle click still opens the confirmation page in a new tab.
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    const dialog = doc.getElementById(opener.dataset.dialog ?? '');
    if (!canShowModal(dialog)) return;
    event.preventDefault();
    openDialog(dialog, opener);
    return;
  }

  const closer = target.closest('[data-close]');
  if (closer) {
    const dialog = closer.closest('dialog');
    if (dialog?.open) {
      event.preventDefault();
      dialog.close();
    }
    return;
  }

  const sortButton = target.closest('th[data-sort] > button.sort');
  if (sortButton) {
    const th = sortButton.parentElement as HTMLTableCellElement;
    const table = th.closest('table');
    if (table) sortTable(table, th);
    return;
  }

  if (target instanceof HTMLInputElement && target.type === 'checkbox' && target.dataset.bulk !== undefined) {
    bulkClick(target, event.shiftKey);
    return;
  }

  if (target.closest('[data-theme-toggle]')) cycleTheme();
}

function onChange(event: Event): void {
  const target = event.target;
  if (target instanceof HTMLInputElement && target.dataset.bulkAll !== undefined) {
    const group = target.dataset.bulkAll;
    for (const box of bulkBoxes(group)) if (visible(box) && !box.disabled) box.checked = target.checked;
    syncBulk(group);
  } else if (target instanceof HTMLInputElement && target.dataset.bulk !== undefined) {
    // Keyboard toggles (Space) arrive here too; clicks were handled, syncing twice is harmless.
    syncBulk(target.dataset.bulk);
  } else if (target instanceof HTMLSelectElement) {
    const form = target.closest('form');
    if (form?.hasAttribute('data-autosubmit')) {
      if (typeof form.requestSubmit === 'function') form.requestSubmit();
      else form.submit();
    }
  }
}

function onInput(event: Event): void {
  const target = event.target;
  if (target instanceof HTMLInputElement && target.dataset.filter !== undefined) applyFilter(target, true);
}

// ---- Start -------------------------------------------------------------------------------------

/** Brings the page in line with the script: safe to run again (after a back/forward restore). */
function sync(): void {
  for (const el of all('button[data-copy],input[data-bulk-all]')) el.hidden = false;
  for (const table of all<HTMLTableElement>('table[data-sortable]')) enhanceSortable(table);
  for (const input of all<HTMLInputElement>('input[data-filter]')) if (input.value) applyFilter(input, false);
  syncAllBulk();
  labelThemeToggles();
}

function start(): void {
  doc.addEventListener('click', onClick);
  doc.addEventListener('change', onChange);
  doc.addEventListener('input', onInput);
  doc.addEventListener('keydown', onKeydown);
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) sync();
  });
  sync();
}

if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', start, { once: true });
else start();
