// The token service's generated signing key when several replicas start at once on one data
// directory: one key wins, nobody reads a half-written file, and all use the same key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { loadSigningKey } from '../../src/auth/signing-key.ts';
import { derInteger, selfSignedCertificate } from '../../src/auth/self-signed-cert.ts';

describe('generated token signing key', () => {
  it('is the same for replicas that start together, with no temporary file left', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'berth-signing-key-'));
    try {
      for (const algorithm of ['ES256', 'RS256'] as const) {
        const dir = join(dataDir, algorithm);
        const keys = await Promise.all(Array.from({ length: 6 }, () => loadSigningKey({ algorithm, dataDir: dir }, pino({ level: 'silent' }))));
        assert.equal(new Set(keys.map((k) => k.kid)).size, 1, algorithm);
        assert.ok(keys.every((k) => k.certificate), 'every replica read the certificate');
        assert.deepEqual((await readdir(join(dir, 'auth'))).sort(), ['token-signing-cert.pem', 'token-signing-key.pem']);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('self-signed certificate encoding', () => {
  it('writes DER integers in minimal form, so a serial that starts with a zero byte still parses', () => {
    assert.deepEqual(derInteger(Buffer.from([0x00, 0x05])), Buffer.from([0x02, 0x01, 0x05]));
    assert.deepEqual(derInteger(Buffer.from([0x00, 0x00, 0x85])), Buffer.from([0x02, 0x02, 0x00, 0x85]));
    assert.deepEqual(derInteger(Buffer.from([0x85])), Buffer.from([0x02, 0x02, 0x00, 0x85]));
    assert.deepEqual(derInteger(Buffer.from([0x00])), Buffer.from([0x02, 0x01, 0x00]));
  });

  it('every generated certificate parses (random serials included)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    for (let i = 0; i < 300; i++) {
      const cert = new X509Certificate(selfSignedCertificate(privateKey, publicKey, 'berth token signer'));
      assert.ok(cert.verify(publicKey));
    }
  });
});
