import OpenAI from 'openai';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export type FinishReason = 'stop' | 'length' | 'content_filter' | 'other';

export type StreamPart =
  | { kind: 'delta'; text: string }
  | {
      kind: 'done';
      finishReason: FinishReason;
      promptTokens: number | null;
      completionTokens: number | null;
    };

export interface LlmSettings {
  baseURL: string;
  apiKey: string;
  model: string;
  temperature: number;
}

/** A whole (not streamed) answer, for model tasks. */
export interface Completion {
  text: string;
  finishReason: FinishReason;
  promptTokens: number | null;
  completionTokens: number | null;
}

export interface CompleteOptions {
  maxTokens: number;
  /** Constrain the output to this JSON Schema (vLLM and llama-server enforce it with a grammar). */
  jsonSchema?: { name: string; schema: Record<string, unknown> };
  /** Sampling temperature; tasks want 0 so the same input gives the same answer. */
  temperature?: number;
}

export const LLM_CLIENT = Symbol('LLM_CLIENT');

/**
 * How a model call failed, as the caller needs to know it: `connection` (refused, reset, dropped) and
 * `server` (5xx) are the backend's fault and worth another backend; `truncated` is a stream that ended
 * without a finish reason (a cut connection the client library took for the end); `rejected` (4xx) is
 * the request's fault, and another backend would most likely refuse it too.
 */
export type ModelCallFailure = 'connection' | 'server' | 'truncated' | 'rejected';

export class ModelCallError extends Error {
  constructor(
    readonly failure: ModelCallFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ModelCallError';
  }
}

/** The port inference depends on; the OpenAI-compatible adapter below is the only implementation. */
export interface LlmClient {
  readonly model: string;
  streamChat(messages: ChatMessage[], maxTokens: number, signal: AbortSignal): AsyncIterable<StreamPart>;
  complete(messages: ChatMessage[], options: CompleteOptions, signal: AbortSignal): Promise<Completion>;
  ping(): Promise<void>;
}

/** Any OpenAI-compatible server (vLLM, llama-server, a commercial API) through the `openai` client. */
export class OpenAiCompatibleClient implements LlmClient {
  private readonly client: OpenAI;

  constructor(private readonly settings: LlmSettings) {
    // Retries would re-run a half-streamed reply; the caller owns retry and timeout.
    this.client = new OpenAI({ baseURL: settings.baseURL, apiKey: settings.apiKey, maxRetries: 0 });
  }

  get model(): string {
    return this.settings.model;
  }

  async *streamChat(
    messages: ChatMessage[],
    maxTokens: number,
    signal: AbortSignal,
  ): AsyncIterable<StreamPart> {
    let finishReason: FinishReason | null = null;
    let promptTokens: number | null = null;
    let completionTokens: number | null = null;
    try {
      const stream = await this.client.chat.completions.create(
        {
          model: this.settings.model,
          messages,
          max_tokens: maxTokens,
          temperature: this.settings.temperature,
          stream: true,
          stream_options: { include_usage: true },
        },
        { signal },
      );
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        const text = choice?.delta?.content;
        if (text) yield { kind: 'delta', text: storable(text) };
        if (choice?.finish_reason) finishReason = normalizeFinish(choice.finish_reason);
        if (chunk.usage) {
          promptTokens = chunk.usage.prompt_tokens;
          completionTokens = chunk.usage.completion_tokens;
        }
      }
    } catch (error) {
      if (signal.aborted) throw abortReason(signal);
      throw asModelCallError(error);
    }
    // The SDK ends the iteration quietly when the request is aborted: that is not a finished reply.
    if (signal.aborted) throw abortReason(signal);
    // Every OpenAI-compatible server ends a reply with a finish reason; a stream without one was cut.
    if (finishReason === null)
      throw new ModelCallError('truncated', 'the model stream ended without a finish');
    yield { kind: 'done', finishReason, promptTokens, completionTokens };
  }

  async complete(
    messages: ChatMessage[],
    options: CompleteOptions,
    signal: AbortSignal,
  ): Promise<Completion> {
    const { jsonSchema } = options;
    const response = await this.client.chat.completions.create(
      {
        model: this.settings.model,
        messages,
        max_tokens: options.maxTokens,
        temperature: options.temperature ?? this.settings.temperature,
        stream: false,
        ...(jsonSchema && {
          response_format: {
            type: 'json_schema' as const,
            json_schema: { name: jsonSchema.name, strict: true, schema: jsonSchema.schema },
          },
        }),
      },
      { signal },
    );
    const choice = response.choices[0];
    return {
      text: storable(choice?.message.content ?? ''),
      finishReason: normalizeFinish(choice?.finish_reason ?? 'other'),
      promptTokens: response.usage?.prompt_tokens ?? null,
      completionTokens: response.usage?.completion_tokens ?? null,
    };
  }

  async ping(): Promise<void> {
    await this.client.models.list({ timeout: 2_000 });
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('the model call was aborted');
}

function asModelCallError(error: unknown): ModelCallError {
  if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
    // 429 and 408 are a busy server, not a bad request: another backend may well answer.
    const busy = error.status >= 500 || error.status === 429 || error.status === 408;
    return new ModelCallError(busy ? 'server' : 'rejected', error.message, { cause: error });
  }
  // APIConnectionError, and what undici throws when a started stream is reset ("terminated").
  const message = error instanceof Error ? error.message : String(error);
  return new ModelCallError('connection', message, { cause: error });
}

/** Model output goes into JSON stores: drop NUL, replace broken surrogates with U+FFFD. */
function storable(text: string): string {
  return text
    .replaceAll('\u0000', '')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

function normalizeFinish(reason: string): FinishReason {
  return reason === 'stop' || reason === 'length' || reason === 'content_filter' ? reason : 'other';
}
