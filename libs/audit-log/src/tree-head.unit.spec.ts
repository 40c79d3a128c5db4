import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { fixedSigningKey } from './audit-log.fixture';
import { EMPTY_TREE_HASH, toHex } from './merkle-hash';
import {
  generateAuditSigningKey,
  loadAuditSigningKey,
  parseAuditSigningKey,
  parsePublicKey,
  publicKeyId,
  rawPublicKey,
  signTreeHead,
  verifyTreeHead,
  type SignedTreeHead,
} from './tree-head';

const key = fixedSigningKey();
const timestamp = new Date('2026-03-04T05:06:07.089Z');
const root = toHex(EMPTY_TREE_HASH).replace(/^e3/, 'aa');

function signed(): SignedTreeHead {
  return signTreeHead({ tenantId: 'acme', treeSize: 1234, rootHash: root }, timestamp, key);
}

describe('signed tree heads', () => {
  describe('given a head signed with the log key', () => {
    it('when checked with the public key alone, then it verifies, and it carries exactly the given values', () => {
      const head = signed();

      expect(verifyTreeHead(head, key.publicKey)).toEqual({ ok: true });
      expect(head).toEqual({
        tenantId: 'acme',
        treeSize: 1234,
        rootHash: root,
        timestamp: '2026-03-04T05:06:07.089Z',
        keyId: key.keyId,
        signature: expect.stringMatching(/^[0-9a-f]{128}$/),
      });
    });

    it('is deterministic (Ed25519, and the timestamp is the one passed in, never the clock)', () => {
      expect(signed()).toEqual(signed());
    });

    it('matches the RFC 8032 test key, so the fixture is the key we think it is', () => {
      expect(rawPublicKey(key.publicKey).toString('hex')).toBe(
        'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      );
    });
  });

  describe('given a head that was changed after signing', () => {
    it.each([
      ['tenantId', 'acme-cn'],
      ['treeSize', 1235],
      ['rootHash', toHex(EMPTY_TREE_HASH)],
      ['timestamp', '2026-03-04T05:06:07.090Z'],
    ])('when %s changes, then the signature no longer verifies', (field, value) => {
      const head = { ...signed(), [field]: value };

      expect(verifyTreeHead(head, key.publicKey)).toEqual({
        ok: false,
        reason: 'the signature does not match the tree head',
      });
    });

    it('when one hex digit of the signature changes, then it fails', () => {
      const head = signed();
      const last = head.signature.at(-1) === '0' ? '1' : '0';

      expect(
        verifyTreeHead({ ...head, signature: head.signature.slice(0, -1) + last }, key.publicKey).ok,
      ).toBe(false);
    });

    it('when the key id is changed to the other key, then it fails even before the signature', () => {
      const other = fixedSigningKey('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb');
      const result = verifyTreeHead({ ...signed(), keyId: other.keyId }, other.publicKey);

      expect(result).toEqual({ ok: false, reason: 'the signature does not match the tree head' });
    });

    it('when it is malformed (extra field, upper-case hex), then it fails with the reason', () => {
      expect(verifyTreeHead({ ...signed(), extra: 1 }, key.publicKey).ok).toBe(false);
      const upper = { ...signed(), rootHash: root.toUpperCase() };
      expect(verifyTreeHead(upper, key.publicKey)).toMatchObject({ ok: false, reason: /malformed/ });
      expect(verifyTreeHead(null, key.publicKey).ok).toBe(false);
    });
  });

  describe('given another key', () => {
    it('when the head is checked with it, then it fails, naming the key it expected', () => {
      const other = loadAuditSigningKey(generateAuditSigningKey().privateKeyPem);

      expect(verifyTreeHead(signed(), other.publicKey)).toEqual({
        ok: false,
        reason: `signed by key ${key.keyId}, expected ${other.keyId}`,
      });
    });

    it('when a head is signed by it but claims our key id, then our key refuses it', () => {
      const other = loadAuditSigningKey(generateAuditSigningKey().privateKeyPem);
      const forged = signTreeHead({ tenantId: 'acme', treeSize: 1, rootHash: root }, timestamp, {
        ...other,
        keyId: key.keyId,
      });

      expect(verifyTreeHead(forged, key.publicKey).ok).toBe(false);
    });
  });

  describe('keys', () => {
    const generated = generateAuditSigningKey();

    it('given a generated key, then PEM, base64 and hex forms of its public key are the same key', () => {
      const fromPem = parsePublicKey(generated.publicKeyPem);
      const fromBase64 = parsePublicKey(`${generated.publicKeyBase64}\n`);
      const fromHex = parsePublicKey(Buffer.from(generated.publicKeyBase64, 'base64').toString('hex'));

      for (const parsed of [fromPem, fromBase64, fromHex]) expect(publicKeyId(parsed)).toBe(generated.keyId);
    });

    it('given a head signed with a loaded private key, then the published public key verifies it', () => {
      const loaded = loadAuditSigningKey(generated.privateKeyPem);
      const head = signTreeHead(
        { tenantId: 'acme', treeSize: 0, rootHash: EMPTY_TREE_HASH },
        timestamp,
        loaded,
      );

      expect(verifyTreeHead(head, parsePublicKey(generated.publicKeyBase64))).toEqual({ ok: true });
    });

    it.each([
      ['garbage', 'not a key'],
      ['31 raw bytes', Buffer.alloc(31, 1).toString('base64')],
      [
        'an RSA key',
        generateKeyPairSync('rsa', { modulusLength: 1024 })
          .publicKey.export({ format: 'pem', type: 'spki' })
          .toString(),
      ],
    ])('given %s, then parsing the public key fails with key-invalid', (_, text) => {
      expect(() => parsePublicKey(text)).toThrow(expect.objectContaining({ code: 'key-invalid' }));
    });

    it('given a non-Ed25519 private key, then loading it fails with key-invalid', () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

      expect(() => loadAuditSigningKey(pem)).toThrow(expect.objectContaining({ code: 'key-invalid' }));
    });

    it('refuses to sign a head that is not well formed', () => {
      expect(() => signTreeHead({ tenantId: 'acme', treeSize: -1, rootHash: root }, timestamp, key)).toThrow(
        expect.objectContaining({ code: 'tree-head-invalid' }),
      );
    });
  });
});

describe('parseAuditSigningKey', () => {
  const generated = generateAuditSigningKey();
  const seed = createPrivateKey(generated.privateKeyPem)
    .export({ format: 'der', type: 'pkcs8' })
    .subarray(-32);

  it.each([
    ['PEM', generated.privateKeyPem],
    ['PEM in base64', Buffer.from(generated.privateKeyPem).toString('base64')],
    ['the seed in hex', seed.toString('hex')],
    ['the seed in base64', seed.toString('base64')],
  ])('reads the key from %s', (_, text) => {
    expect(parseAuditSigningKey(text).keyId).toBe(generated.keyId);
  });

  it('refuses anything else with key-invalid', () => {
    expect(() => parseAuditSigningKey('not a key')).toThrow(expect.objectContaining({ code: 'key-invalid' }));
  });
});
