import { findSlotValue, validateSlotValue } from './slot-patterns';

/** The fixtures' reference time: Monday 2026-11-30, 10:00 in Shanghai. */
const MONDAY = '2026-11-30T10:00:00+08:00';

describe('slot patterns', () => {
  it.each([
    ['订单号E20261126003817，三天了还没发货', 'E20261126003817'],
    ['单号是3920175548126603', '3920175548126603'],
    ['order e20261121019442 please', 'E20261121019442'],
    ['tracking SF1409872236514, no order id here', null],
    ['我的手机13917264085', null],
  ])('order_id in %j is %j', (text, expected) => {
    expect(findSlotValue('order_id', text, MONDAY)).toBe(expected);
  });

  it.each([
    ['我留的手机号是13917264085', '13917264085'],
    ['收货人电话 186 2047 3391', '18620473391'],
    ['call +86 159-3012-8846', '15930128846'],
    ['12345678901 is not a mobile', null],
    ['order 3920175548126603', null],
  ])('phone in %j is %j', (text, expected) => {
    expect(findSlotValue('phone', text, MONDAY)).toBe(expected);
  });

  it('finds an email as written', () => {
    expect(findSlotValue('email', '发到 lily_zhou2019@qq.com 谢谢', MONDAY)).toBe('lily_zhou2019@qq.com');
    expect(findSlotValue('email', 'no email here @ all', MONDAY)).toBeNull();
  });

  it.each([
    ['charged twice, ¥459 each time', '459 CNY'],
    ['降价了50块', '50 CNY'],
    ['refund of $36.90 processed', '36.9 USD'],
    ['I paid HK$520 for it', '520 HKD'],
    ['amount 129 CNY, reason', '129 CNY'],
    ['我付了299，只退了259', '299 CNY'],
    ['no money talk', null],
  ])('amount in %j is %j', (text, expected) => {
    expect(findSlotValue('amount', text, MONDAY)).toBe(expected);
  });

  it.each([
    ['我是昨天联系过的', '2026-11-29'],
    ['last Wednesday', '2026-11-25'],
    ['I ordered it on Nov 25.', '2026-11-25'],
    ['双十一买的台灯', '2026-11-11'],
    ['last Friday', '2026-11-27'],
    ['快递员说明天送到', '2026-12-01'],
    ['Need it before Friday', '2026-12-04'],
    ['我上周三下的单', '2026-11-25'],
    ['the day before yesterday', '2026-11-28'],
    ['我11月20号拍的', '2026-11-20'],
    ['on Black Friday', '2026-11-27'],
    ['前天签收了', '2026-11-28'],
    ['approved a week ago', '2026-11-23'],
    ['on the 3rd', '2026-11-03'],
    ['我上周一买的', '2026-11-23'],
    ['last Monday', '2026-11-23'],
    ['no date', null],
  ])('date in %j is %j', (text, expected) => {
    expect(findSlotValue('date', text, MONDAY)).toBe(expected);
  });

  it('resolves against the message time, and a UTC time counts in Shanghai', () => {
    // 2026-11-30T17:00Z is already Tuesday 01:00 in Shanghai.
    expect(findSlotValue('date', '昨天', '2026-11-30T17:00:00.000Z')).toBe('2026-11-30');
    expect(findSlotValue('date', '昨天', '2026-11-30T10:00:00.000Z')).toBe('2026-11-29');
  });

  it('free text is left to the model', () => {
    expect(findSlotValue('text', '质量不好', MONDAY)).toBeNull();
  });

  it.each([
    ['order_id', 'e20261126003817', { ok: true, value: 'E20261126003817' }],
    ['order_id', '12345', { ok: false, reason: 'invalid-format' }],
    ['order_id', 'order E20261126003817', { ok: false, reason: 'invalid-format' }],
    ['phone', '139 1726 4085', { ok: true, value: '13917264085' }],
    ['phone', '12917264085', { ok: false, reason: 'invalid-format' }],
    ['email', 'a@b.cn', { ok: true, value: 'a@b.cn' }],
    ['email', 'not-an-email', { ok: false, reason: 'invalid-format' }],
    ['amount', 459, { ok: true, value: '459 CNY' }],
    ['amount', '$12', { ok: true, value: '12 USD' }],
    ['date', '2026-11-29', { ok: true, value: '2026-11-29' }],
    ['date', '2026-02-30', { ok: false, reason: 'invalid-format' }],
    ['date', '昨天', { ok: true, value: '2026-11-29' }],
    ['text', '  尺码不合适 ', { ok: true, value: '尺码不合适' }],
    ['text', '   ', { ok: false, reason: 'invalid-format' }],
  ] as const)('validates a %s value %j as %j', (type, value, expected) => {
    expect(validateSlotValue(type, value, MONDAY)).toEqual(expected);
  });
});
