// The Notary server's key material and names: the key vault (berth.trust.keyfile created 0600
// when missing, or BERTH_TRUST_PASSPHRASE through scrypt; AES-256-GCM bound to the key's row),
// canonical JSON and key IDs as Notary computes them, and the GUN -> repository mapping.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyVault, KeyVaultError } from '../../src/trust/notary/key-vault.ts';
import { canonicalBytes } from '../../src/trust/notary/canonical.ts';
import { keyId, parseKey } from '../../src/trust/notary/keys.ts';
import { gunMapper } from '../../src/trust/notary/gun.ts';
import { defaultConfig } from '../../src/config/index.ts';
import { rootKey } from './notary-fixtures.ts';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'notary-vault-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('Notary key vault', () => {
  it('creates the key file (mode 0600) on first use, reuses it, and binds each ciphertext to its row', () =>
    withDir(async (dir) => {
      const keyfile = join(dir, 'trust', 'server.key');
      const vault = new KeyVault({ keyfile });
      const secret = Buffer.from('a private key, in DER');
      const sealed = await vault.seal(secret, 'gun\nsnapshot\nid1');
      assert.equal((await stat(keyfile)).mode & 0o777, 0o600);
      assert.equal(Buffer.from((await readFile(keyfile, 'utf8')).trim(), 'base64').length, 32);
      assert.ok(!sealed.includes(secret.toString('base64')));
      assert.equal(JSON.parse(sealed).kek, 'file');
      // Another process (a restart, a replica with the same file) opens it.
      assert.deepEqual(await new KeyVault({ keyfile }).open(sealed, 'gun\nsnapshot\nid1'), secret);
      // Moved to another row: refused.
      await assert.rejects(vault.open(sealed, 'gun\ntimestamp\nid1'), KeyVaultError);
      // Another key file: refused, with a message that names the file and no key material.
      const other = join(dir, 'other.key');
      await writeFile(other, `${Buffer.alloc(32, 7).toString('hex')}\n`);
      await assert.rejects(new KeyVault({ keyfile: other }).open(sealed, 'gun\nsnapshot\nid1'), /not the key file it was encrypted with/);
      await writeFile(other, 'too short');
      await assert.rejects(new KeyVault({ keyfile: other }).seal(secret, 'x'), /32 random bytes/);
    }));

  it('uses BERTH_TRUST_PASSPHRASE (scrypt) when set, and says so when it is missing or wrong', () =>
    withDir(async (dir) => {
      const keyfile = join(dir, 'server.key');
      const sealed = await new KeyVault({ keyfile, passphrase: 'correct horse battery staple' }).seal(Buffer.from('secret'), 'aad');
      assert.equal(JSON.parse(sealed).kek, 'scrypt');
      await assert.rejects(stat(keyfile), /ENOENT/, 'no key file is needed with a passphrase');
      assert.deepEqual(await new KeyVault({ keyfile, passphrase: 'correct horse battery staple' }).open(sealed, 'aad'), Buffer.from('secret'));
      await assert.rejects(new KeyVault({ keyfile, passphrase: 'wrong' }).open(sealed, 'aad'), /BERTH_TRUST_PASSPHRASE differs/);
      await assert.rejects(new KeyVault({ keyfile }).open(sealed, 'aad'), /BERTH_TRUST_PASSPHRASE, which is not set/);
    }));
});

describe('Notary canonical JSON and key IDs', () => {
  it('writes canonical JSON as Notary signs it: sorted keys, no whitespace, only " and \\ escaped', () => {
    const bytes = canonicalBytes({ b: 1, a: 'x"y\\z\n<&>', c: [true, null, { e: 2, d: 'é' }] });
    assert.equal(bytes.toString('utf8'), '{"a":"x\\"y\\\\z\n<&>","b":1,"c":[true,null,{"d":"é","e":2}]}');
    assert.throws(() => canonicalBytes({ a: 1.5 }));
  });

  it('computes a key ID as the SHA-256 of the key\'s canonical JSON with private null', async () => {
    const k = await rootKey('localhost:5000/team/app');
    const expected = createHash('sha256')
      .update(`{"keytype":"ecdsa-x509","keyval":{"private":null,"public":"${k.tuf.keyval.public}"}}`)
      .digest('hex');
    assert.equal(keyId(k.tuf), expected);
    const parsed = parseKey(k.tuf);
    assert.equal(parsed.id, expected);
    assert.equal(parsed.certificates?.length, 1);
    assert.throws(() => parseKey({ keytype: 'ecdsa', keyval: { private: 'c2VjcmV0', public: k.tuf.keyval.public } }), /private/);
    assert.throws(() => parseKey({ keytype: 'dsa', keyval: { private: null, public: 'AAAA' } }), /unsupported/);
  });
});

describe('GUN to repository', () => {
  it('maps host[:port]/repo to repo when the host is one of the registry\'s names', () => {
    const config = defaultConfig();
    config.http.host = 'https://registry.example.com';
    config.berth.trust.hostnames = ['mirror.example.com:8443'];
    const map = gunMapper(config);
    assert.equal(map('registry.example.com/team/app', undefined), 'team/app');
    assert.equal(map('Registry.Example.com/team/app', undefined), 'team/app');
    assert.equal(map('mirror.example.com:8443/team/app', undefined), 'team/app');
    assert.equal(map('localhost:5000/team/app', 'localhost:5000'), 'team/app');
    assert.equal(map('localhost:5000/team/app', 'localhost:5001'), undefined);
    assert.equal(map('team/app', 'localhost:5000'), undefined);
    assert.equal(map('registry.example.com/Team/App', undefined), undefined, 'not a repository name');
  });
});
