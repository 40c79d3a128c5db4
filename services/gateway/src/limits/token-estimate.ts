/** Han, kana and hangul: about one model token per character in the tokenizers the engine serves. */
const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]/gu;

/**
 * Model tokens a message will cost before the model has counted them: its own tokens (a CJK character
 * is about one token, other text about four characters per token) plus the reply it may cause. The
 * same rough rule for every route, so a limit means the same thing on REST and on the OpenAI facade;
 * the facade settles the estimate to the model's own count once the reply is in.
 */
export function estimateTokens(text: string, replyTokens: number): number {
  const cjk = text.match(CJK)?.length ?? 0;
  const other = text.length - cjk;
  return cjk + Math.ceil(other / 4) + replyTokens;
}

/** What a message is assumed to cause in reply when the caller names no maximum. */
export const DEFAULT_REPLY_TOKENS = 256;
