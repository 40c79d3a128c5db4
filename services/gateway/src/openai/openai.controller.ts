import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import type { Response } from 'express';
import { AppError } from '@contracts';
import type { Principal } from '@libs/event-store';
import { problemOf } from '@libs/platform';
import { ApiKeyGuard, CurrentPrincipal, Roles } from '../auth';
import {
  CompleteChatCommand,
  CompleteChatHandler,
  type ChatConversation,
  type ChatTurn,
  type TurnOutcome,
} from '../conversations';
import { parseInput } from '../http/parse-input';
import { DEFAULT_REPLY_TOKENS, RateLimitPolicy, estimateTokens, type Admission } from '../limits';
import { OpenAiErrorFilter, openAiErrorOf } from './openai-errors';
import {
  ChatCompletionBody,
  ChatCompletionHeaders,
  ENGINE_MODEL,
  newCustomerText,
  type ChatCompletionRequest,
} from './openai.schemas';

type Answer = Extract<TurnOutcome, { kind: 'replied' }>;

/**
 * The OpenAI-compatible facade: systems that already speak OpenAI's chat completions point their
 * client at `<gateway>/v1` with a tenant key and get the whole engine behind it (sessions, knowledge,
 * inference with fallback, audit). Same keys, roles and limits as the REST routes; errors in OpenAI's shape.
 */
@Controller('v1')
@UseGuards(ApiKeyGuard)
@UseFilters(OpenAiErrorFilter)
@Roles('frontend', 'agent')
export class OpenAiController {
  constructor(
    @Inject(CompleteChatHandler) private readonly completeChat: CompleteChatHandler,
    @Inject(RateLimitPolicy) private readonly limits: RateLimitPolicy,
  ) {}

  @Get('models')
  models() {
    return { object: 'list', data: [modelObject()] };
  }

  @Get('models/:model')
  model(@Param('model') model: string) {
    if (model !== ENGINE_MODEL.id) throw modelNotFound(model);
    return modelObject();
  }

  @Post('chat/completions')
  @HttpCode(200)
  async complete(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @Headers() headers: unknown,
    @Res() res: Response,
  ): Promise<void> {
    const request = parseInput(ChatCompletionBody, body);
    if (request.model !== ENGINE_MODEL.id) throw modelNotFound(request.model);
    const text = newCustomerText(request);
    const header = parseInput(ChatCompletionHeaders, headers);
    const conversation: ChatConversation =
      header['x-conversation-id'] !== undefined
        ? { kind: 'named', conversationId: header['x-conversation-id'] }
        : request.user !== undefined
          ? { kind: 'user', user: request.user }
          : { kind: 'one-turn' };
    // max_tokens only sizes the estimate: the tenant's settings decide the reply's length.
    const replyTokens = request.max_completion_tokens ?? request.max_tokens ?? DEFAULT_REPLY_TOKENS;
    const admission = await this.limits.admit(principal, 'tokens', estimateTokens(text, replyTokens), res);
    const abandoned = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abandoned.abort(new Error('the client went away'));
    });
    const turn = await this.completeChat.execute(
      new CompleteChatCommand(principal.tenant.id, conversation, text, header['idempotency-key'] ?? null),
      abandoned.signal,
    );
    res.setHeader('X-Conversation-Id', turn.ref.conversationId);
    const completion = { id: `chatcmpl-${turn.messageId}`, created: Math.floor(Date.now() / 1000) };
    if (request.stream === true) {
      return this.stream(res, request, turn, completion, principal, admission);
    }
    let step = await turn.replies.next();
    while (!step.done) step = await turn.replies.next();
    const answer = answerOf(step.value);
    await this.settle(principal, admission, answer);
    res.status(200).json({
      ...completion,
      object: 'chat.completion',
      model: ENGINE_MODEL.id,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: answer.text, refusal: null },
          logprobs: null,
          finish_reason: answer.finishReason,
        },
      ],
      usage: usageOf(answer),
    });
  }

  /** Server-sent events: `chat.completion.chunk`s as the reply's chunks are appended, then `[DONE]`. */
  private async stream(
    res: Response,
    request: ChatCompletionRequest,
    turn: ChatTurn,
    completion: { id: string; created: number },
    principal: Principal,
    admission: Admission,
  ): Promise<void> {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
    const chunk = (delta: Record<string, unknown>, finishReason: string | null) =>
      send({
        ...completion,
        object: 'chat.completion.chunk',
        model: ENGINE_MODEL.id,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      });
    try {
      chunk({ role: 'assistant', content: '' }, null);
      let step = await turn.replies.next();
      while (!step.done) {
        chunk({ content: step.value }, null);
        step = await turn.replies.next();
      }
      const answer = answerOf(step.value);
      await this.settle(principal, admission, answer);
      chunk({}, answer.finishReason);
      if (request.stream_options?.include_usage === true) {
        send({
          ...completion,
          object: 'chat.completion.chunk',
          model: ENGINE_MODEL.id,
          choices: [],
          usage: usageOf(answer),
        });
      }
      res.write('data: [DONE]\n\n');
    } catch (error) {
      // The status is sent: OpenAI's clients read an `error` event in the stream as the failure.
      if (!res.writableEnded) send(openAiErrorOf(problemOf(error)));
    } finally {
      res.end();
    }
  }

  /** The estimate charged up front becomes the model's own count (fixed texts cost no tokens). */
  private async settle(principal: Principal, admission: Admission, answer: Answer): Promise<void> {
    const { total_tokens } = usageOf(answer);
    await this.limits.settle(principal, admission, total_tokens);
  }
}

function answerOf(outcome: TurnOutcome): Answer {
  switch (outcome.kind) {
    case 'replied':
      return outcome;
    case 'failed':
      throw new AppError('dependency-unavailable', `no reply could be generated (${outcome.code})`);
    case 'closed':
      throw new AppError('conversation-closed', 'the conversation closed before the bot answered');
    default: {
      const unexpected: never = outcome;
      throw new Error(`unhandled outcome ${JSON.stringify(unexpected)}`);
    }
  }
}

function usageOf(answer: Answer) {
  const prompt = answer.usage?.promptTokens ?? 0;
  const completion = answer.usage?.completionTokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function modelObject() {
  return {
    id: ENGINE_MODEL.id,
    object: 'model',
    created: ENGINE_MODEL.created,
    owned_by: ENGINE_MODEL.owned_by,
  };
}

function modelNotFound(model: string): AppError {
  return new AppError(
    'model-not-found',
    `The model \`${model}\` does not exist; use \`${ENGINE_MODEL.id}\``,
    {
      errors: [{ path: 'model', message: 'unknown model' }],
    },
  );
}
