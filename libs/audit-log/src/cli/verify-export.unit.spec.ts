import type { SignedTreeHead } from '../tree-head';
import { describeVerification, parseArguments } from './verify-export';

describe('audit:verify arguments', () => {
  it.each([
    [['exports/acme-1'], { target: 'exports/acme-1' }],
    [
      ['exports/acme-1/manifest.json', '--public-key', 'log.pub'],
      { target: 'exports/acme-1/manifest.json', publicKeyFile: 'log.pub' },
    ],
    [['--public-key', 'log.pub', 'exports/acme-1'], { target: 'exports/acme-1', publicKeyFile: 'log.pub' }],
  ])('given %j, then it reads the target and the key file', (argv, expected) => {
    expect(parseArguments(argv)).toEqual(expected);
  });

  it.each([[[]], [['a', 'b']], [['a', '--public-key']], [['--public-key', 'k']], [['--verbose']]])(
    'given %j, then it is a usage error',
    (argv) => {
      expect(parseArguments(argv)).toBeUndefined();
    },
  );
});

describe('audit:verify output', () => {
  const treeHead: SignedTreeHead = {
    tenantId: 'acme',
    treeSize: 16,
    rootHash: 'ab'.repeat(32),
    timestamp: '2026-01-02T03:04:05.678Z',
    keyId: 'cd'.repeat(32),
    signature: 'ef'.repeat(64),
  };

  it('given a verified export, then one line says what was proven and against which key', () => {
    const text = describeVerification({
      ok: true,
      entries: 5,
      treeHead,
      keyId: treeHead.keyId,
      keyPinned: true,
    });

    expect(text).toBe(
      `OK 5 entries of tenant acme are in the log of 16 entries with root ${treeHead.rootHash}, ` +
        `signed at 2026-01-02T03:04:05.678Z by key ${treeHead.keyId}\n`,
    );
  });

  it('given no pinned key, then the output says the signer was not checked', () => {
    expect(
      describeVerification({ ok: true, entries: 5, treeHead, keyId: treeHead.keyId, keyPinned: false }),
    ).toContain('pass --public-key');
  });

  it('given a failure, then it prints the kind, the entry, the line and why', () => {
    const text = describeVerification({
      ok: false,
      failure: {
        kind: 'inclusion-proof-failed',
        index: 8,
        line: 3,
        detail: 'entry 8 is not in the signed tree of size 16',
      },
    });

    expect(text).toBe(
      'FAILED inclusion-proof-failed (entry 8, line 3): entry 8 is not in the signed tree of size 16\n',
    );
    expect(
      describeVerification({
        ok: false,
        failure: { kind: 'export-signature-invalid', index: null, line: null, detail: 'x' },
      }),
    ).toBe('FAILED export-signature-invalid: x\n');
  });
});
