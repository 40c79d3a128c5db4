import { MIN_NEW_SHARE, newShare, restatesRequest } from './slot-restatement';

const REFUND_EXAMPLES = ['我要退款', '钱什么时候退给我', '取消订单退钱', 'I want a refund'];
const ORDER = 'E20261130123456';

describe('a free-text value against the request it came with', () => {
  it('counts the value’s letter/digit pairs found in none of the known texts, case and punctuation aside', () => {
    expect(newShare('退款', REFUND_EXAMPLES)).toBe(0);
    expect(newShare('买错尺码了', REFUND_EXAMPLES)).toBe(1);
    // 我要 要退 退款 are known, 款因 因为 为买 买错 错了 are not.
    expect(newShare('我要退款，因为买错了', REFUND_EXAMPLES)).toBeCloseTo(5 / 8);
    expect(newShare('A REFUND!', REFUND_EXAMPLES)).toBe(0);
    expect(newShare('买', REFUND_EXAMPLES)).toBe(1);
    expect(newShare('，。!', REFUND_EXAMPLES)).toBe(0);
  });

  it('refuses what is mostly the request and the other slots, keeps a reason in other words', () => {
    expect(restatesRequest(`订单号${ORDER}，订单需要退款。`, [...REFUND_EXAMPLES, ORDER])).toBe(true);
    expect(restatesRequest(ORDER, [...REFUND_EXAMPLES, ORDER])).toBe(true);
    expect(restatesRequest('the sleeve was torn', [...REFUND_EXAMPLES, ORDER])).toBe(false);
    expect(newShare('订单号', [...REFUND_EXAMPLES, ORDER])).toBe(MIN_NEW_SHARE); // 订单 known, 单号 new
    expect(restatesRequest('订单号', [...REFUND_EXAMPLES, ORDER])).toBe(true);
  });
});
