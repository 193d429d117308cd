// What `berth push SOURCE` reads before it connects: which image of a layout or archive it means.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../helpers/processes.ts';
import { makeOciLayout } from '../helpers/images.ts';
import { planPush } from '../../src/transfer/push-sources.ts';
import { UsageError } from '../../src/client/usage-error.ts';
import { digestOf } from '../../src/oci/digest.ts';

describe('push sources: PATH:REF of an OCI layout', () => {
  let dir: { path: string; cleanup(): Promise<void> };
  before(async () => {
    dir = await tempDir('push-sources');
  });
  after(async () => dir.cleanup());

  it('takes a ref holding colons, as podman save and skopeo oci:DIR:REF name entries', async () => {
    const layout = `${dir.path}/layout`;
    // Two entries, so the ref must choose: `skopeo copy ... oci:DIR:localhost:5000/app:1.0` writes such names.
    const a = await makeOciLayout(layout, { tag: 'localhost:5000/team/app:1.0', layers: 1, layerBytes: 100 });
    const b = await makeOciLayout(layout, { tag: 'example.com/other:2', layers: 1, layerBytes: 100 });
    const planA = await planPush(`${layout}:localhost:5000/team/app:1.0`, { tmpDir: dir.path });
    assert.equal(digestOf(planA.images[0]!.originalBytes!), a.digest);
    assert.equal(planA.what, `${layout}:localhost:5000/team/app:1.0`);
    const planB = await planPush(`${layout}:example.com/other:2`, { tmpDir: dir.path });
    assert.equal(digestOf(planB.images[0]!.originalBytes!), b.digest);
    // A ref without colons and a missing path still behave as before.
    await assert.rejects(planPush(`${dir.path}/missing:1.0`, { tmpDir: dir.path }), (e: Error) => e instanceof UsageError && /no such file/.test(e.message));
    await assert.rejects(planPush(`${layout}:nope`, { tmpDir: dir.path }), /no ref "nope"/);
  });
});
