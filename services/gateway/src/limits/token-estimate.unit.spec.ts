import { estimateTokens } from './token-estimate';

describe('the token estimate of a message', () => {
  it('counts a CJK character as a token, other text as four characters a token, plus the reply', () => {
    expect(estimateTokens('', 0)).toBe(0);
    expect(estimateTokens('我的包裹到哪了', 0)).toBe(7);
    expect(estimateTokens('where is my parcel', 0)).toBe(5);
    expect(estimateTokens('订单 E2026 到了吗', 100)).toBe(5 + Math.ceil(8 / 4) + 100);
  });
});
