// The cookbook pages cannot rot: every shell command on docs/cookbook/NAME.md and
// docs/zh-CN/cookbook/NAME.md is one that test/scenarios/NAME.test.ts runs (its NAME.steps.ts
// declares it, and the test checks it ran every declared command) or one the test reports as not
// runnable here, with the same host names, ports and paths as the seed document. Both languages show
// the same commands in the same order, every scenario has both pages, and every command a scenario
// runs is on its pages (nothing the test does is missing from the walk-through). Commands cannot hide
// from the check: fenced blocks count wherever they are indented (list items), and a block that is
// not a shell block (untagged or `text`) must not hold a command or a `$ ` prompt.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/processes.ts';
import { normalizeCommand, scenariosDir, splitCommands, type Steps } from './harness.ts';

const EN = join(repoRoot, 'docs', 'cookbook');
const ZH = join(repoRoot, 'docs', 'zh-CN', 'cookbook');
const SHELL = new Set(['sh', 'bash', 'shell', 'console']);
/** Tags of blocks that show no commands by convention, and so must not hold any. */
const PLAIN = new Set(['', 'text', 'txt', 'plain', 'plaintext']);

export interface Fence {
  tag: string;
  body: string;
  line: number;
}

/** A page's fenced blocks (``` or ~~~, indented or not: list items too), bodies unindented. */
export function fences(markdown: string): Fence[] {
  const out: Fence[] = [];
  const re = /^([ \t]*)(`{3,}|~{3,})[ \t]*([\w+-]*)[^\n]*\n([\s\S]*?)^[ \t]*\2[ \t]*$/gm;
  for (const m of markdown.matchAll(re)) {
    const indent = m[1]!.length;
    const body = m[4]!
      .split('\n')
      .map((l) => l.slice(Math.min(indent, /^[ \t]*/.exec(l)![0].length)))
      .join('\n');
    out.push({ tag: m[3]!.toLowerCase(), body, line: markdown.slice(0, m.index).split('\n').length });
  }
  return out;
}

/** The commands of a page's shell blocks, in order. */
export function pageCommands(markdown: string): string[] {
  return fences(markdown)
    .filter((f) => SHELL.has(f.tag))
    .flatMap((f) => splitCommands(f.body).map(normalizeCommand));
}

/** Lines of non-shell blocks that look like commands: a `$ ` prompt, or a known command's first word. */
export function commandsOutsideShellBlocks(markdown: string, knownCommands: Set<string>): string[] {
  const out: string[] = [];
  for (const f of fences(markdown)) {
    if (SHELL.has(f.tag) || !PLAIN.has(f.tag)) continue;
    for (const line of f.body.split('\n').map((l) => l.trim())) {
      const first = line.split(/\s+/)[0]!;
      if (line.startsWith('$ ') || knownCommands.has(first)) out.push(`line ${f.line} (\`\`\`${f.tag}): ${line}`);
    }
  }
  return out;
}

/** Lines of shell blocks that carry a prompt, which would become part of the command. */
export function promptsInShellBlocks(markdown: string): string[] {
  return fences(markdown)
    .filter((f) => SHELL.has(f.tag))
    .flatMap((f) => f.body.split('\n').filter((l) => /^\s*\$\s/.test(l)).map((l) => `line ${f.line}: ${l.trim()}`));
}

const scenarios = readdirSync(scenariosDir)
  .filter((f) => f.endsWith('.steps.ts'))
  .map((f) => f.slice(0, -'.steps.ts'.length))
  .sort();

/** Programs a reader would type, whatever block they are in: every scenario's, and the usual ones. */
async function knownCommands(): Promise<Set<string>> {
  const words = new Set(['docker', 'docker-compose', 'docker-machine', 'podman', 'skopeo', 'buildah', 'berth', 'curl', 'wget', 'openssl', 'dcos', 'notary', 'nginx', 'htpasswd', 'sudo', 'cd', 'mkdir', 'cp', 'mv', 'cat', 'tar', 'echo', 'printf', 'sed', 'systemctl', 'service', 'update-ca-certificates', 'update-ca-trust', 'kubectl', 'ssh', 'scp', 'rsync', 'ln', 'jq', 'vi']);
  for (const s of scenarios) {
    const { steps } = (await import(join(scenariosDir, `${s}.steps.ts`))) as { steps: Steps };
    for (const c of [...Object.values(steps.run), ...Object.keys(steps.cannotRun)]) {
      const first = c.trim().split(/\s+/)[0]!;
      if (/^[a-z][\w.-]*$/.test(first) && !first.includes('=')) words.add(first);
    }
  }
  return words;
}

describe('cookbook pages (docs/cookbook, docs/zh-CN/cookbook) against the scenario tests', () => {
  it('the command splitter joins continuations and keeps heredocs whole', () => {
    const cmds = splitCommands("# a comment\necho one \\\n  two\n\ncat > f <<'EOF'\nx:  1\n# kept\nEOF\nls");
    assert.deepEqual(cmds, ['echo one two', "cat > f <<'EOF'\nx:  1\n# kept\nEOF", 'ls']);
  });

  it('fences are found indented too; plain blocks with commands and prompts in shell blocks are caught', () => {
    const md = '1. a step\n\n    ```sh\n    berth serve config.yml\n    ```\n\n```\n$ docker login x\n```\n\n```text\nberth tls init\n```\n\n```json\n{"cp": 1}\n```\n\n```sh\n$ ls\n# a comment\n```\n';
    assert.deepEqual(pageCommands(md), ['berth serve config.yml', '$ ls']);
    assert.deepEqual(commandsOutsideShellBlocks(md, new Set(['berth'])), ['line 7 (```): $ docker login x', 'line 11 (```text): berth tls init']);
    assert.deepEqual(promptsInShellBlocks(md), ['line 19: $ ls']);
  });

  it('no page shows a command outside a shell block, or a prompt inside one', async () => {
    const known = await knownCommands();
    for (const dir of [EN, ZH]) {
      for (const f of readdirSync(dir).filter((f) => f.endsWith('.md'))) {
        const text = readFileSync(join(dir, f), 'utf8');
        assert.deepEqual(commandsOutsideShellBlocks(text, known), [], `${dir}/${f}: commands in blocks that are not shell blocks (tag them sh, and make the scenario test run them)`);
        assert.deepEqual(promptsInShellBlocks(text), [], `${dir}/${f}: shell blocks with a prompt (the page shows commands as typed, without $)`);
      }
    }
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
