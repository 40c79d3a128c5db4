import { ContentFilterError } from './content-filter.error';
import { FilterRegistry } from './filter-registry';

describe('the filter registry', () => {
  it('given a tenant without a list, when its text is scanned, then nothing is found', () => {
    expect(new FilterRegistry().scan('t1', '加我微信').action).toBe('none');
  });

  it('given a list replaced while scanning, when scans continue, then each sees the old list or the new one whole', () => {
    const registry = new FilterRegistry();
    registry.replace('t1', [
      { word: '旧词一', category: 'abuse' },
      { word: '旧词二', category: 'abuse' },
    ]);
    const before = registry.get('t1');
    const openStream = registry.openStream('t1');
    expect(openStream.write('前半 旧词').text).toBe('前半 ');

    registry.replace('t1', [{ word: '新词', category: 'fraud' }]);

    expect(registry.scan('t1', '旧词一 新词').matches).toEqual([
      { category: 'fraud', action: 'handoff', start: 4, end: 6 },
    ]);
    expect(before.scan('旧词一 新词').matches).toEqual([
      { category: 'abuse', action: 'mask', start: 0, end: 3 },
    ]);
    // The stream opened before the swap finishes with the list it started with.
    expect(openStream.write('二 新词').text).toBe('*** 新词');
  });

  it('given a replacement that fails to build, when scanning, then the previous list is still in force', () => {
    const registry = new FilterRegistry();
    registry.replace('t1', [{ word: '加微信', category: 'contact-diversion' }]);

    expect(() => registry.replace('t1', [{ word: '?!', category: 'abuse' }])).toThrow(ContentFilterError);
    expect(registry.scan('t1', '加微信').action).toBe('mask');
  });

  it('given two tenants, when one replaces or removes its list, then the other is unaffected', () => {
    const registry = new FilterRegistry();
    registry.replace('t1', [{ word: '加微信', category: 'contact-diversion' }]);
    registry.replace('t2', [{ word: '星河优购', category: 'competitor' }]);

    registry.remove('t1');

    expect(registry.scan('t1', '加微信 星河优购').matches).toEqual([]);
    expect(registry.scan('t2', '加微信 星河优购').matches).toEqual([
      { category: 'competitor', action: 'mask', start: 4, end: 8 },
    ]);
  });
});
