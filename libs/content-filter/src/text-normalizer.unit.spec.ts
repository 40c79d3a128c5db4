import { Converter } from 'opencc-js';
import { normaliseWord, normaliseWordWithSpaces } from './text-normalizer';

describe('normalisation', () => {
  it('given full-width letters and digits, when normalised, then they are half-width and lower case', () => {
    expect(normaliseWord('ＷｅＣｈａｔ１２３')).toBe('wechat123');
    expect(normaliseWord('WeChat QQ')).toBe('wechatqq');
    expect(normaliseWord('①②③')).toBe('123');
  });

  it('given separators slipped between characters, when normalised, then they are gone', () => {
    for (const variant of [
      '微 信',
      '微-信',
      '微.信',
      '微_信',
      '微　信',
      '微\u200b信',
      '微\u200d信',
      '微\ufeff信',
      '微😀信',
      '微\u3164信',
    ]) {
      expect(normaliseWord(variant)).toBe('微信');
    }
    expect(normaliseWord('w.e.c.h.a.t')).toBe('wechat');
    expect(normaliseWord('v x')).toBe('vx');
  });

  it('given traditional or Hong Kong forms, when normalised, then they are simplified', () => {
    expect(normaliseWord('私下聯繫')).toBe('私下联系');
    expect(normaliseWord('發財帳號臺灣')).toBe('发财帐号台湾');
    expect(normaliseWord('刷單返利')).toBe('刷单返利');
  });

  it('given a traditional sentence, when normalised, then it reads as opencc-js t2cn converts it', () => {
    const sentences = [
      '請問這個訂單甚麼時候發貨？我們已經等了三個禮拜',
      '親愛的顧客，您的包裹已經寄出，請留意簡訊通知。退貨請聯繫線上客服，謝謝您的耐心。',
    ];
    const t2cn = Converter({ from: 't', to: 'cn' });
    const hk2cn = Converter({ from: 'hk', to: 'cn' });

    for (const sentence of sentences) {
      expect(normaliseWord(sentence)).toBe(normaliseWord(t2cn(sentence)));
      expect(normaliseWord(sentence)).toBe(normaliseWord(hk2cn(sentence)));
    }
  });

  it('given a listed phrase with spaces, when normalised, then the positions of its spaces are kept', () => {
    expect(normaliseWordWithSpaces(' add me  on wechat ')).toEqual({
      key: 'addmeonwechat',
      spaces: [3, 5, 7],
    });
    expect(normaliseWordWithSpaces('加微信').spaces).toEqual([]);
  });
});
