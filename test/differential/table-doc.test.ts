// The table of deliberate differences exists twice (the test's EXPECTED_DIFFERENCES and the
// user-facing docs/differences-from-distribution.md): this keeps them from drifting apart.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../helpers/processes.ts';
import { EXPECTED_DIFFERENCES } from './expected-differences.ts';

describe('differences table', () => {
  it('docs/differences-from-distribution.md lists exactly the expected differences', async () => {
    const doc = await readFile(join(repoRoot, 'docs', 'differences-from-distribution.md'), 'utf8');
    // Table rows start with a backquoted scenario/step.
    const rows = doc.split('\n').filter((l) => /^\| `[a-z0-9-]+\/[a-z0-9-]+` \|/.test(l));
    const key = (step: string, field: string) => `${step} ${field}`;
    const docKeys = rows.map((r) => {
      const [, step, field] = /^\| `([^`]+)` \| `([^`]+)`/.exec(r)!;
      return key(step, field);
    });
    assert.deepEqual(docKeys, EXPECTED_DIFFERENCES.map((e) => key(e.step, e.field)));
    for (const [i, e] of EXPECTED_DIFFERENCES.entries()) {
      assert.ok(rows[i].includes(e.reason), `reason of ${e.step} [${e.field}] differs between doc and test`);
    }
  });
});
