// GPG simple signatures by a key that has expired since it signed. GnuPG reports such a signature
// as EXPKEYSIG, and containers/image (skopeo, podman, through gpgme) refuses it ("Invalid GPG
// signature ... KEY_EXPIRED"); openpgp.js on its own checks the key only as of the signature's
// creation time. berth verify and the pull policy must refuse it as the clients do. The key and
// the signature are made by the real `gpg`, two years in the past (--faked-system-time).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasCommand, run, tempDir } from '../helpers/processes.ts';
import { pushImage, startTestRegistry, type TestRegistry } from '../http/harness.ts';
import { readGpgKeys, verifySimpleSignature } from '../../src/trust/signatures/gpg.ts';
import { ATOMIC_PAYLOAD_TYPE } from '../../src/trust/cosign/payload.ts';
import { putSimpleSignature } from './policy-fixtures.ts';

const past = (days: number) => {
  const d = new Date(Date.now() - days * 86_400_000);
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, '');
};

describe('GPG signatures by a key that has expired since', { skip: !hasCommand('gpg') && 'gpg is not installed' }, () => {
  let work: { path: string; cleanup(): Promise<void> };
  let r: TestRegistry;
  let env: Record<string, string>;
  const keys: Record<'expired' | 'valid', { fingerprint: string; file: string }> = {} as never;

  const gpg = (args: string[], input?: string) => run('gpg', ['--batch', '--no-tty', ...args], { env, timeoutMs: 60_000, ...(input !== undefined && { input }) });
  const sign = async (who: keyof typeof keys, digest: string, at?: string) => {
    const payload = JSON.stringify({ critical: { identity: { 'docker-reference': `${new URL(r.url).host}/gpg/app:v1` }, image: { 'docker-manifest-digest': digest }, type: ATOMIC_PAYLOAD_TYPE }, optional: {} });
    const out = join(work.path, `${who}-${digest.slice(7, 19)}.sig`);
    await gpg([...(at ? ['--faked-system-time', at] : []), '--yes', '-u', keys[who].fingerprint, '--output', out, '--sign'], payload);
    return readFile(out);
  };

  before(async () => {
    work = await tempDir('gpg-expiry');
    env = { GNUPGHOME: join(work.path, 'gnupg') };
    await run('mkdir', ['-m', '700', env.GNUPGHOME!]);
    const make = async (who: keyof typeof keys, uid: string, extra: string[], expiry: string) => {
      await gpg([...extra, '--passphrase', '', '--pinentry-mode', 'loopback', '--quick-gen-key', uid, 'ed25519', 'sign', expiry]);
      const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec((await gpg(['--with-colons', '--list-secret-keys', uid])).stdout)![1]!;
      const file = join(work.path, `${who}.gpg`);
      await gpg(['--yes', '--output', file, '--export', fingerprint]);
      keys[who] = { fingerprint, file };
    };
    // Valid for two days, two years ago.
    await make('expired', 'Expired <expired@berth.test>', ['--faked-system-time', past(730)], '2d');
    await make('valid', 'Valid <valid@berth.test>', [], 'never');
    r = await startTestRegistry((c) => {
      c.berth.trust.policies = [{ repositories: ['gpg/**'], require: 'gpg', keys: [keys.expired.file, keys.valid.file], notaryRoles: ['targets'] }];
    });
  });
  after(async () => {
    await r?.stop();
    await run('gpgconf', ['--kill', 'gpg-agent'], { env, allowFail: true });
    await work?.cleanup();
  });

  it('berth verify refuses the signature, as skopeo and podman do; one by a valid key verifies', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const trusted = [...(await readGpgKeys(await readFile(keys.expired.file))), ...(await readGpgKeys(await readFile(keys.valid.file)))];
    const expired = await verifySimpleSignature(await sign('expired', digest, past(729)), trusted, { digest });
    assert.equal(expired.ok, false);
    assert.match(expired.reason!, /expired/);
    const valid = await verifySimpleSignature(await sign('valid', digest), trusted, { digest });
    assert.equal(valid.ok, true, valid.reason);
  });

  it('the pull policy refuses an image signed only by the expired key', async () => {
    const img = await pushImage(r.url, 'gpg/app', 'v1');
    assert.equal((await putSimpleSignature(r.url, 'gpg/app', img.digest, await sign('expired', img.digest, past(729)))).status, 201);
    const res = await fetch(`${r.url}/v2/gpg/app/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { errors: { message: string }[] }).errors[0]!.message, /gpg: .*expired/);
    assert.equal((await putSimpleSignature(r.url, 'gpg/app', img.digest, await sign('valid', img.digest))).status, 201);
    assert.equal((await fetch(`${r.url}/v2/gpg/app/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).status, 200);
  });
});
