import type { IntentDefinition } from '@contracts';

export type SlotType = IntentDefinition['slots'][number]['type'];

/**
 * Validators and patterns for structured slot values in Chinese and English text. Pure: relative dates
 * resolve against the message's own time (`referenceTime`), never a clock, so replay finds the same.
 * Free text (a refund reason) is left to the extract-slots model task.
 */

export type PatternValue = string | number;

export type Validation = { ok: true; value: PatternValue } | { ok: false; reason: 'invalid-format' };

/** Shop orders: `E` + yyyymmdd + 6 digits; marketplace orders: 12-18 digits (never 11: that is a phone). */
const ORDER_ID = /(?<![A-Za-z0-9])(?:[Ee]\d{14}|\d{12,18})(?![0-9])/g;
/** Mainland mobiles, possibly with +86 and spaces or hyphens between digit groups. */
const PHONE = /(?<![0-9+])(?:\+?86[\s-]?)?(1[3-9]\d(?:[\s-]?\d){8})(?![0-9])/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** The first value of `type` found in `text`, normalised (ISO date, digits-only phone...), or null. */
export function findSlotValue(type: SlotType, text: string, referenceTime: string): PatternValue | null {
  switch (type) {
    case 'order_id':
      return firstMatch(ORDER_ID, text)?.toUpperCase() ?? null;
    case 'phone': {
      const match = firstMatch(PHONE, text);
      return match === null ? null : normalisePhone(match);
    }
    case 'email':
      return firstMatch(EMAIL, text);
    case 'amount':
      return findAmount(text);
    case 'date':
      return findDate(text, referenceTime);
    case 'text':
      return null;
    default: {
      const unexpected: never = type;
      throw new Error(`unknown slot type ${String(unexpected)}`);
    }
  }
}

/** Checks (and normalises) a value someone else offered for a slot, e.g. what the model extracted. */
export function validateSlotValue(type: SlotType, value: PatternValue, referenceTime: string): Validation {
  const text = String(value).trim();
  if (text.length === 0) return { ok: false, reason: 'invalid-format' };
  switch (type) {
    case 'order_id':
      return whole(ORDER_ID, text) ? { ok: true, value: text.toUpperCase() } : invalid();
    case 'phone':
      return whole(PHONE, text) ? { ok: true, value: normalisePhone(text) } : invalid();
    case 'email':
      return whole(EMAIL, text) ? { ok: true, value: text } : invalid();
    case 'amount': {
      const amount = typeof value === 'number' ? `${value} CNY` : findAmount(text);
      return amount === null ? invalid() : { ok: true, value: amount };
    }
    case 'date': {
      if (/^\d{4}-\d{2}-\d{2}$/.test(text) && isRealDate(text)) return { ok: true, value: text };
      const date = findDate(text, referenceTime);
      return date === null ? invalid() : { ok: true, value: date };
    }
    case 'text':
      return { ok: true, value: text };
    default: {
      const unexpected: never = type;
      throw new Error(`unknown slot type ${String(unexpected)}`);
    }
  }
}

const invalid = (): Validation => ({ ok: false, reason: 'invalid-format' });

function firstMatch(pattern: RegExp, text: string): string | null {
  pattern.lastIndex = 0;
  const match = pattern.exec(text);
  pattern.lastIndex = 0;
  return match ? match[0] : null;
}

function whole(pattern: RegExp, text: string): boolean {
  return firstMatch(pattern, text) === text;
}

function normalisePhone(text: string): string {
  const digits = text.replace(/\D/g, '');
  return digits.length === 13 && digits.startsWith('86') ? digits.slice(2) : digits;
}

// ---- amounts: "<value> <currency>", e.g. "459 CNY" ----

const NUMBER = String.raw`(\d+(?:\.\d{1,2})?)`;
const AMOUNT_PATTERNS: [RegExp, string][] = [
  [new RegExp(String.raw`HK\$\s?${NUMBER}`, 'i'), 'HKD'],
  [new RegExp(String.raw`${NUMBER}\s?(?:HKD|港币|港元|港幣)`, 'i'), 'HKD'],
  [new RegExp(String.raw`(?:US)?\$\s?${NUMBER}`, 'i'), 'USD'],
  [new RegExp(String.raw`${NUMBER}\s?(?:USD|dollars?|美元|美金)`, 'i'), 'USD'],
  [new RegExp(String.raw`[¥￥]\s?${NUMBER}`), 'CNY'],
  [new RegExp(String.raw`${NUMBER}\s?(?:元|块|塊|RMB|CNY|yuan)`, 'i'), 'CNY'],
  [
    new RegExp(String.raw`(?:付了|扣了|付款|花了|paid|charged|price(?: is)?|the)\s?${NUMBER}(?![\d.])`, 'i'),
    'CNY',
  ],
];

function findAmount(text: string): string | null {
  let best: { index: number; value: string } | null = null;
  for (const [pattern, currency] of AMOUNT_PATTERNS) {
    const match = pattern.exec(text);
    if (match?.[1] === undefined) continue;
    // The first amount in the text: usually the one paid or asked about.
    if (best === null || match.index < best.index) {
      best = { index: match.index, value: `${Number(match[1])} ${currency}` };
    }
  }
  return best?.value ?? null;
}

// ---- dates: ISO yyyy-mm-dd in the customer's local calendar ----

/** Contact centres of this engine serve mainland China: a UTC time counts in UTC+8. */
const DEFAULT_OFFSET_MINUTES = 8 * 60;

interface LocalDay {
  year: number;
  month: number; // 1-12
  day: number;
  weekday: number; // 0 = Sunday
}

function localDay(referenceTime: string): LocalDay {
  const offsetMatch = /([+-])(\d{2}):(\d{2})$/.exec(referenceTime);
  const offset = offsetMatch
    ? (offsetMatch[1] === '-' ? -1 : 1) * (Number(offsetMatch[2]) * 60 + Number(offsetMatch[3]))
    : DEFAULT_OFFSET_MINUTES;
  const local = new Date(Date.parse(referenceTime) + offset * 60_000);
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    weekday: local.getUTCDay(),
  };
}

function shift(day: LocalDay, days: number): string {
  return iso(new Date(Date.UTC(day.year, day.month - 1, day.day + days)));
}

function iso(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function ymd(year: number, month: number, day: number): string | null {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? iso(date) : null;
}

function isRealDate(text: string): boolean {
  const [year, month, day] = text.split('-').map(Number);
  return ymd(year ?? 0, month ?? 0, day ?? 0) === text;
}

const EN_WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const ZH_WEEKDAYS: Record<string, number> = { 日: 0, 天: 0, 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6 };
const EN_MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

type DateRule = [RegExp, (match: RegExpExecArray, today: LocalDay) => string | null];

const DATE_RULES: DateRule[] = [
  [/(\d{4})-(\d{1,2})-(\d{1,2})/, (m) => ymd(Number(m[1]), Number(m[2]), Number(m[3]))],
  [/(?:大前天|three days ago)/i, (_m, t) => shift(t, -3)],
  [/(?:前天|前日|the day before yesterday)/i, (_m, t) => shift(t, -2)],
  [/(?:昨天|昨日|琴日|yesterday)/i, (_m, t) => shift(t, -1)],
  [/(?:后天|後天|the day after tomorrow)/i, (_m, t) => shift(t, 2)],
  [/(?:明天|聽日|tomorrow)/i, (_m, t) => shift(t, 1)],
  [/(?:一周前|一个星期前|一個星期前|一个礼拜前|a week ago|one week ago)/i, (_m, t) => shift(t, -7)],
  [/(?:今天|今日|today)/i, (_m, t) => shift(t, 0)],
  [/双十一|雙十一|double eleven|singles'? day/i, (_m, t) => ymd(t.year, 11, 11)],
  [/black friday/i, (_m, t) => blackFriday(t.year)],
  // 上周三 / 上星期三 / 上礼拜三: that weekday of the previous calendar week (weeks start on Monday).
  [
    /上(?:周|星期|礼拜|禮拜)([一二三四五六日天])/,
    (m, t) => shift(t, -mondayIndex(t.weekday) - 7 + mondayIndex(ZH_WEEKDAYS[m[1] ?? ''] ?? 1)),
  ],
  [
    /last (sunday|monday|tuesday|wednesday|thursday|friday|saturday)/i,
    (m, t) => shift(t, -daysBack(t.weekday, EN_WEEKDAYS.indexOf((m[1] ?? '').toLowerCase()))),
  ],
  [/(\d{1,2})\s?月\s?(\d{1,2})\s?[日号號]/, (m, t) => ymd(t.year, Number(m[1]), Number(m[2]))],
  [
    /\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b/i,
    (m, t) => ymd(t.year, EN_MONTHS.indexOf((m[1] ?? '').toLowerCase()) + 1, Number(m[2])),
  ],
  [
    /\b(\d{1,2})(?:st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b/i,
    (m, t) => ymd(t.year, EN_MONTHS.indexOf((m[2] ?? '').toLowerCase()) + 1, Number(m[1])),
  ],
  [/\bthe (\d{1,2})(?:st|nd|rd|th)\b/i, (m, t) => ymd(t.year, t.month, Number(m[1]))],
  [/(?<![\d月])(\d{1,2})\s?[号號](?!码|碼)/, (m, t) => ymd(t.year, t.month, Number(m[1]))],
  // A bare weekday is the next one to come ("need it before Friday").
  [
    /\b(sunday|monday|tuesday|wednesday|thursday|friday|saturday)\b/i,
    (m, t) => shift(t, daysAhead(t.weekday, EN_WEEKDAYS.indexOf((m[1] ?? '').toLowerCase()))),
  ],
];

function findDate(text: string, referenceTime: string): string | null {
  const today = localDay(referenceTime);
  let best: { index: number; value: string } | null = null;
  for (const [pattern, resolve] of DATE_RULES) {
    const match = pattern.exec(text);
    if (!match) continue;
    const value = resolve(match, today);
    if (value !== null && (best === null || match.index < best.index)) best = { index: match.index, value };
  }
  return best?.value ?? null;
}

/** Monday 0 ... Sunday 6. */
function mondayIndex(weekday: number): number {
  return (weekday + 6) % 7;
}

/** Days back to the latest `target` weekday strictly before today. */
function daysBack(today: number, target: number): number {
  const back = (today - target + 7) % 7;
  return back === 0 ? 7 : back;
}

function daysAhead(today: number, target: number): number {
  const ahead = (target - today + 7) % 7;
  return ahead === 0 ? 7 : ahead;
}

/** The day after the fourth Thursday of November. */
function blackFriday(year: number): string {
  const first = new Date(Date.UTC(year, 10, 1)).getUTCDay();
  const firstThursday = 1 + ((4 - first + 7) % 7);
  return iso(new Date(Date.UTC(year, 10, firstThursday + 21 + 1)));
}
