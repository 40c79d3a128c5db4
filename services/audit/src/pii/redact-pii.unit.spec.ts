import { isValidIdNumber, passesLuhn, redactPii, redactPiiDeep } from './redact-pii';

// 11010519491231002X: the checksum example of GB 11643; 4111 1111 1111 1111: a Luhn-valid test card.
describe('redactPii', () => {
  it.each([
    ['我的电话是13800138000，请回电', '我的电话是[phone]，请回电', 'phone'],
    ['call +86 138 0013 8000 now', 'call [phone] now', 'phone'],
    ['身份证 11010519491231002X 已提交', '身份证 [id-number] 已提交', 'id-number'],
    ['card 4111 1111 1111 1111 ok', 'card [bank-card] ok', 'bank-card'],
    ['卡号6222021234567890128', '卡号[bank-card]', 'bank-card'],
    ['mail me: li.wei+cs@example.com.cn', 'mail me: [email]', 'email'],
  ])('given %j, then it reads %j', (input, output, kind) => {
    const result = redactPii(input);
    expect(result.text).toBe(output);
    expect(result.found).toEqual({ [kind]: 1 });
  });

  it.each([
    ['an 18-digit number with a wrong checksum', '订单 110105194912310021'],
    ['a 16-digit number that fails Luhn', 'ref 4111111111111112'],
    ['a number too short for a phone', 'order 1380013800'],
    ['a phone number inside a longer run of digits', 'id 913800138000'],
    ['an amount', '退款 1299.00 元'],
  ])('given %s, then nothing is redacted', (_, input) => {
    expect(redactPii(input)).toEqual({ text: input, found: {} });
  });

  it('redacts every string of event data and keeps its shape', () => {
    expect(redactPiiDeep({ text: '13800138000', n: 3, nested: [{ mail: 'a@b.cn' }], none: null })).toEqual({
      text: '[phone]',
      n: 3,
      nested: [{ mail: '[email]' }],
      none: null,
    });
  });
});

describe('redactPiiDeep and identifiers', () => {
  // Its first three groups, 4111111511114111, pass Luhn: as free text they would read as a card.
  const uuid = '41111115-1111-4111-8111-111111111111';

  it('leaves a UUID alone, though its digit groups read as a card inside text', () => {
    expect(redactPii(`ref ${uuid}`).found).toEqual({ 'bank-card': 1 });
    expect(redactPiiDeep({ conversationId: uuid, ids: [uuid], text: `card ${uuid.slice(0, 18)}` })).toEqual({
      conversationId: uuid,
      ids: [uuid],
      text: 'card [bank-card]',
    });
  });
});

describe('checksums', () => {
  it('accepts the GB 11643 example and refuses its neighbours', () => {
    expect(isValidIdNumber('11010519491231002X')).toBe(true);
    expect(isValidIdNumber('11010519491231002x')).toBe(true);
    expect(isValidIdNumber('110105194912310021')).toBe(false);
  });

  it('Luhn: the classic test numbers pass, one changed digit fails', () => {
    expect(passesLuhn('4111111111111111')).toBe(true);
    expect(passesLuhn('79927398713')).toBe(false); // 11 digits: too short for a card
    expect(passesLuhn('4111111111111121')).toBe(false);
  });
});
