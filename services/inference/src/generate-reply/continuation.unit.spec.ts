import { CONTINUE_INSTRUCTION, continuationPrompt, RepeatTrimmer } from './continuation';

/** Feeds `tokens` through a trimmer of `delivered`; returns what it let through. */
function trimmed(delivered: string, tokens: string[]): string {
  const trimmer = new RepeatTrimmer(delivered);
  return tokens.map((token) => trimmer.push(token)).join('') + trimmer.end();
}

describe('continuationPrompt', () => {
  it('keeps the prompt, adds the delivered text as the assistant turn, then asks to continue', () => {
    const prompt = [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'Where is my parcel?' },
    ];

    expect(continuationPrompt(prompt, 'Your parcel')).toEqual([
      ...prompt,
      { role: 'assistant', content: 'Your parcel' },
      { role: 'user', content: CONTINUE_INSTRUCTION },
    ]);
  });
});

describe('RepeatTrimmer', () => {
  it('passes a continuation that repeats nothing, unchanged', () => {
    expect(trimmed('Orders ship within 48 hours, and', [' they', ' arrive', ' in 3 days.'])).toBe(
      ' they arrive in 3 days.',
    );
  });

  it('drops a restatement of everything delivered, token by token as models stream it', () => {
    const delivered = "I'm sorry for the wait. Orders usually ship within 48 hours, and";
    const tokens = [...`${delivered} they arrive in 3 days.`.matchAll(/.{1,4}/gs)].map(([token]) => token);

    expect(trimmed(delivered, tokens)).toBe(' they arrive in 3 days.');
  });

  it('drops a restatement that comes after a preamble ("Sure, ..."), and the preamble with it', () => {
    expect(trimmed("I'm sorry for", ['Sure', ', ', "I'm ", 'sorry ', 'for ', 'the delay.'])).toBe(
      ' the delay.',
    );
    expect(trimmed('您好，您的快递', ['好的，', '您好，', '您的快递', '明天到。'])).toBe('明天到。');
  });

  it('keeps a continuation that merely starts like a preamble', () => {
    expect(trimmed('Your order', [' ok', 'ay to ship.'])).toBe(' okay to ship.');
  });

  it('drops the last words of the delivered text when the continuation starts with them', () => {
    expect(trimmed('Orders usually ship within 48 hours, and', ['48 hours,', ' and', ' arrive soon.'])).toBe(
      ' arrive soon.',
    );
  });

  it('keeps an overlap too short to be a repetition', () => {
    expect(trimmed('Thank you for waiting.', [' Yo', 'u will hear from us.'])).toBe(
      ' You will hear from us.',
    );
    expect(trimmed('It ships today', ['day', ' or tomorrow.'])).toBe('day or tomorrow.');
  });

  it('handles Chinese, which has no spaces to cut at', () => {
    const delivered = '您好，您的快递预计';
    expect(trimmed(delivered, ['您好，', '您的快递', '预计明天', '送达。'])).toBe('明天送达。');
    expect(trimmed(delivered, ['明天', '送达。'])).toBe('明天送达。');
  });

  it('gives back held text when the continuation ends while it could still have been a repeat', () => {
    expect(trimmed('Hello there, friend', ['Hello'])).toBe('Hello');
  });

  it('with nothing delivered, lets everything through at once', () => {
    const trimmer = new RepeatTrimmer('');

    expect(trimmer.push('Hi')).toBe('Hi');
  });
});
