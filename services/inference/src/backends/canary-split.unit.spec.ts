import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { CanarySplitFile } from './canary-split-file';
import { canaryBucket, CanarySplit, parseCanarySplit } from './canary-split';

const conversations = Array.from({ length: 2_000 }, (_, index) => `conversation-${index}`);

function canaryShare(split: CanarySplit, tenantId: string): number {
  return conversations.filter((id) => split.isCanary(tenantId, id)).length / conversations.length;
}

describe('canary split', () => {
  it('puts a conversation in the same bucket every time', () => {
    expect(canaryBucket('c-1')).toBe(canaryBucket('c-1'));
    expect(conversations.map(canaryBucket)).toEqual(conversations.map(canaryBucket));
  });

  it('sends about the configured share of conversations to the canary', () => {
    const split = new CanarySplit({ default: 0, tenants: { t1: 50, t2: 10 } });
    expect(canaryShare(split, 't1')).toBeGreaterThan(0.45);
    expect(canaryShare(split, 't1')).toBeLessThan(0.55);
    expect(canaryShare(split, 't2')).toBeGreaterThan(0.07);
    expect(canaryShare(split, 't2')).toBeLessThan(0.13);
  });

  it('applies the default to unlisted tenants, and 0 and 100 mean none and all', () => {
    expect(canaryShare(new CanarySplit({ default: 0, tenants: { t1: 100 } }), 'other')).toBe(0);
    expect(canaryShare(new CanarySplit({ default: 0, tenants: { t1: 100 } }), 't1')).toBe(1);
    expect(canaryShare(new CanarySplit({ default: 100, tenants: { t1: 0 } }), 'other')).toBe(1);
  });

  it('only adds conversations when the share grows (a promotion keeps the canary ones)', () => {
    const at10 = new CanarySplit({ default: 10, tenants: {} });
    const at50 = new CanarySplit({ default: 50, tenants: {} });
    const canaryAt10 = conversations.filter((id) => at10.isCanary('t', id));
    expect(canaryAt10.length).toBeGreaterThan(0);
    expect(canaryAt10.every((id) => at50.isCanary('t', id))).toBe(true);
  });

  it('parses a split file and names what is wrong in a bad one', () => {
    expect(parseCanarySplit('{"tenants":{"t1":25}}').percentOf('t1')).toBe(25);
    expect(parseCanarySplit('{}').percentOf('t1')).toBe(0);
    expect(() => parseCanarySplit('{"tenants":{"t1":150}}')).toThrow(/tenants\.t1/);
    expect(() => parseCanarySplit('{"default":5,"extra":1}')).toThrow(/invalid/);
    expect(() => parseCanarySplit('not json')).toThrow(/not JSON/);
  });

  it('reloads the file on change and keeps the last good split on a bad edit', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'canary-')), 'split.json');
    writeFileSync(path, '{"tenants":{"t1":50}}');
    const source = new CanarySplitFile(path, 60_000, pino({ level: 'silent' }));
    try {
      expect(source.current().percentOf('t1')).toBe(50);
      writeFileSync(path, '{"tenants":{"t1":0}}');
      source.reload();
      expect(source.current().percentOf('t1')).toBe(0);
      expect(source.loads).toBe(2);
      writeFileSync(path, '{"tenants":');
      source.reload();
      expect(source.current().percentOf('t1')).toBe(0);
      expect(source.loads).toBe(2);
    } finally {
      source.close();
    }
  });

  it('refuses a bad file at boot', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'canary-')), 'split.json');
    writeFileSync(path, '{"default":-1}');
    expect(() => new CanarySplitFile(path, 60_000, pino({ level: 'silent' }))).toThrow(/default/);
  });
});
