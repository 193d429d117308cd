// The cookbook pages cannot rot: every shell command on docs/cookbook/NAME.md and
// docs/zh-CN/cookbook/NAME.md is one that test/scenarios/NAME.test.ts runs (its NAME.steps.ts
// declares it, and the test checks it ran every declared command) or one the test reports as not
// runnable here, with the same host names, ports and paths as the seed document. Both languages show
// the same commands in the same order, every scenario has both pages, and every command a scenario
// runs is on its pages (nothing the test does is missing from the walk-through).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/processes.ts';
import { normalizeCommand, scenariosDir, splitCommands, type Steps } from './harness.ts';

const EN = join(repoRoot, 'docs', 'cookbook');
const ZH = join(repoRoot, 'docs', 'zh-CN', 'cookbook');
const SHELL = new Set(['sh', 'bash', 'shell', 'console']);

/** The commands of a page's shell blocks, in order. */
export function pageCommands(markdown: string): string[] {
  const out: string[] = [];
  const fence = /^```([\w-]*)[^\n]*\n([\s\S]*?)^```\s*$/gm;
  for (const m of markdown.matchAll(fence)) if (SHELL.has(m[1]!)) out.push(...splitCommands(m[2]!).map(normalizeCommand));
  return out;
}

const scenarios = readdirSync(scenariosDir)
  .filter((f) => f.endsWith('.steps.ts'))
  .map((f) => f.slice(0, -'.steps.ts'.length))
  .sort();

describe('cookbook pages (docs/cookbook, docs/zh-CN/cookbook) against the scenario tests', () => {
  it('the command splitter joins continuations and keeps heredocs whole', () => {
    const cmds = splitCommands("# a comment\necho one \\\n  two\n\ncat > f <<'EOF'\nx:  1\n# kept\nEOF\nls");
    assert.deepEqual(cmds, ['echo one two', "cat > f <<'EOF'\nx:  1\n# kept\nEOF", 'ls']);
  });

  it('every scenario has a page in English and in Chinese, and every page a scenario', () => {
    assert.ok(scenarios.length >= 11, `scenarios: ${scenarios.join(', ')}`);
    for (const s of scenarios) {
      assert.ok(existsSync(join(EN, `${s}.md`)), `docs/cookbook/${s}.md is missing`);
      assert.ok(existsSync(join(ZH, `${s}.md`)), `docs/zh-CN/cookbook/${s}.md is missing`);
      assert.ok(existsSync(join(scenariosDir, `${s}.test.ts`)), `test/scenarios/${s}.test.ts is missing`);
    }
    for (const dir of [EN, ZH]) {
      for (const f of readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
        assert.ok(scenarios.includes(f.slice(0, -3)), `${dir}/${f} has no test/scenarios/${f.slice(0, -3)}.steps.ts`);
      }
    }
  });

  for (const s of scenarios) {
    it(`${s}: the pages' commands are the test's, in both languages`, async () => {
      const { steps } = (await import(join(scenariosDir, `${s}.steps.ts`))) as { steps: Steps };
      const run = new Set(Object.values(steps.run).map(normalizeCommand));
      const skipped = new Set(Object.keys(steps.cannotRun).map(normalizeCommand));
      const pages = [join(EN, `${s}.md`), join(ZH, `${s}.md`)].map((p) => ({ p, text: readFileSync(p, 'utf8') }));
      const lists = pages.map(({ p, text }) => {
        const cmds = pageCommands(text);
        const unknown = cmds.filter((c) => !run.has(c) && !skipped.has(c));
        assert.deepEqual(unknown, [], `${p}: commands the scenario test neither runs nor reports as not runnable here`);
        const missing = [...run].filter((c) => !cmds.includes(c));
        assert.deepEqual(missing, [], `${p}: commands the scenario test runs that the page does not show`);
        // The page names what it follows and what checks it.
        assert.ok(text.includes(steps.seed), `${p} does not name ${steps.seed}`);
        assert.ok(text.includes(`test/scenarios/${s}.test.ts`), `${p} does not name test/scenarios/${s}.test.ts`);
        return cmds;
      });
      assert.deepEqual(lists[1], lists[0], `the Chinese page's commands differ from the English page's (${s})`);
    });
  }

  it('the cookbook indexes link every page, and README.zh-CN.md links the Chinese cookbook', () => {
    const en = readFileSync(join(EN, 'README.md'), 'utf8');
    const zh = readFileSync(join(ZH, 'README.md'), 'utf8');
    for (const s of scenarios) {
      assert.ok(en.includes(`(${s}.md)`), `docs/cookbook/README.md does not link ${s}.md`);
      assert.ok(zh.includes(`(${s}.md)`), `docs/zh-CN/cookbook/README.md does not link ${s}.md`);
    }
    const readmeZh = readFileSync(join(repoRoot, 'README.zh-CN.md'), 'utf8');
    assert.match(readmeZh, /docs\/zh-CN\/cookbook\//);
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    assert.match(readme, /README\.zh-CN\.md/);
    // The same two first commands as the English README.
    for (const cmd of ['npm ci && npm start', 'npm ci && npm test']) {
      assert.ok(readme.includes(cmd) && readmeZh.includes(cmd), `both READMEs start with ${cmd}`);
      assert.ok(readmeZh.indexOf(cmd) < readmeZh.indexOf('docs/zh-CN/cookbook/'), `${cmd} comes first in README.zh-CN.md`);
    }
  });
});
