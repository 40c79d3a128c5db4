import { chunkDocument, chunkText, splitSentences } from './chunking';

describe('splitSentences', () => {
  it('splits Chinese at 。！？； and keeps closing quotes with their sentence', () => {
    expect(splitSentences('运费怎么收？满99元包邮。新疆西藏另计！他说“好的。”然后走了')).toEqual([
      '运费怎么收？',
      '满99元包邮。',
      '新疆西藏另计！',
      '他说“好的。”',
      '然后走了',
    ]);
  });

  it('splits English at . ! ? followed by space, never inside numbers or versions', () => {
    expect(splitSentences('Shipping is ¥8. It is free from ¥99.50 paid! Really? Yes (v1.2 too).')).toEqual([
      'Shipping is ¥8.',
      'It is free from ¥99.50 paid!',
      'Really?',
      'Yes (v1.2 too).',
    ]);
  });

  it('treats line breaks as boundaries and collapses white space', () => {
    expect(splitSentences('Title line\n\n  first   part\nsecond')).toEqual([
      'Title line',
      'first part',
      'second',
    ]);
  });
});

describe('chunkText', () => {
  const options = { maxChars: 40, overlapChars: 20 };

  it('never cuts a sentence, and repeats the boundary sentence in the next chunk', () => {
    const text = 'One short line. Two short line. Three short line. Four short line.';
    const chunks = chunkText(text, options);

    expect(chunks).toEqual([
      'One short line. Two short line.',
      'Two short line. Three short line.',
      'Three short line. Four short line.',
    ]);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(40);
  });

  it('joins Chinese sentences without spaces and overlaps them too', () => {
    const chunks = chunkText('满99元包邮。新疆西藏满299元包邮。港澳满800元包邮。不发台湾和海外。', {
      maxChars: 20,
      overlapChars: 8,
    });

    expect(chunks).toEqual(['满99元包邮。新疆西藏满299元包邮。', '港澳满800元包邮。不发台湾和海外。']);
  });

  it('cuts only a sentence longer than a chunk, into pieces of the limit', () => {
    const chunks = chunkText('长'.repeat(50), { maxChars: 20, overlapChars: 5 });

    expect(chunks.map((chunk) => chunk.length)).toEqual([20, 20, 10]);
  });

  it('gives the same chunks for the same text (chunk ids depend on it)', () => {
    const text = '退货需在签收后30天内申请。商品需未使用。Return within 30 days. Items must be unused.';
    expect(chunkText(text, options)).toEqual(chunkText(text, options));
  });

  it('gives nothing for blank text', () => {
    expect(chunkText('  \n ', options)).toEqual([]);
  });
});

describe('chunkDocument', () => {
  it('numbers chunks across the document and never lets one cross a section', () => {
    const chunks = chunkDocument(
      [
        { heading: 'Intro', text: 'Alpha one. Alpha two.' },
        { heading: null, text: '' },
        { heading: 'Returns', text: 'Beta one. Beta two.' },
      ],
      { maxChars: 100, overlapChars: 20 },
    );

    expect(chunks).toEqual([
      { index: 0, sectionIndex: 0, heading: 'Intro', text: 'Alpha one. Alpha two.' },
      { index: 1, sectionIndex: 2, heading: 'Returns', text: 'Beta one. Beta two.' },
    ]);
  });
});
