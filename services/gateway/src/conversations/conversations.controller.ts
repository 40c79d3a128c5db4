import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { Response } from 'express';
import { AppError, MAX_MESSAGE_BYTES, type ConversationSearch, type ConversationStateAt } from '@contracts';
import type { ConversationView } from '@libs/conversation';
import type { Principal, Tenant } from '@libs/event-store';
import { ApiKeyGuard, CurrentPrincipal, CurrentTenant, Roles } from '../auth';
import { DEFAULT_REPLY_TOKENS, RateLimitPolicy, estimateTokens } from '../limits';
import { parseInput } from '../http/parse-input';
import { AgentMessagesHandler, ReturnToBotCommand, SendAgentMessageCommand } from './agent-messages';
import { CloseConversationCommand, CloseConversationHandler } from './close-conversation';
import {
  GetConversationStateHandler,
  GetConversationStateQuery,
} from './conversation-state/conversation-state.handler';
import { FindByReferenceHandler, FindByReferenceQuery } from './find-by-reference/find-by-reference.handler';
import { conversationRef } from './conversation-ref';
import {
  AgentMessageBody,
  CloseConversationBody,
  ReturnToBotBody,
  SearchConversationsQuery,
  StateAtQuery,
  ListEventsQuery,
  SendMessageBody,
  SendMessageHeaders,
  StartConversationBody,
} from './conversations.schemas';
import { GetConversationHandler, GetConversationQuery } from './get-conversation';
import {
  ListConversationEventsHandler,
  ListConversationEventsQuery,
  type EventPage,
} from './list-conversation-events';
import { SendMessageCommand, SendMessageHandler, type MessageAccepted } from './send-message';
import { StartConversationCommand, StartConversationHandler } from './start-conversation';

/**
 * REST for contact-centre frontends. Each route validates, builds one command or query, and maps the result.
 * Conversations hold customer text as typed: only the keys that hold conversations (frontend, agent)
 * use them; analysts and compliance read through the audit service (redacted, or raw and logged).
 */
@Controller('v1/conversations')
@UseGuards(ApiKeyGuard)
@Roles('frontend', 'agent')
export class ConversationsController {
  constructor(
    @Inject(StartConversationHandler) private readonly startConversation: StartConversationHandler,
    @Inject(SendMessageHandler) private readonly sendMessage: SendMessageHandler,
    @Inject(CloseConversationHandler) private readonly closeConversation: CloseConversationHandler,
    @Inject(GetConversationHandler) private readonly getConversation: GetConversationHandler,
    @Inject(ListConversationEventsHandler) private readonly listEvents: ListConversationEventsHandler,
    @Inject(GetConversationStateHandler) private readonly stateAt: GetConversationStateHandler,
    @Inject(FindByReferenceHandler) private readonly byReference: FindByReferenceHandler,
    @Inject(AgentMessagesHandler) private readonly agents: AgentMessagesHandler,
    @Inject(RateLimitPolicy) private readonly limits: RateLimitPolicy,
  ) {}

  @Get()
  async search(@CurrentTenant() tenant: Tenant, @Query() query: unknown): Promise<ConversationSearch> {
    const { reference } = parseInput(SearchConversationsQuery, query);
    // Read over the phone: the random part is upper case whatever the caller typed.
    const normalised = reference.replace(/-([^-]{8})$/, (part) => part.toUpperCase());
    return this.byReference.execute(new FindByReferenceQuery(tenant.id, normalised));
  }

  @Get(':id/state')
  async state(
    @CurrentTenant() tenant: Tenant,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<ConversationStateAt> {
    const ref = conversationRef(tenant, id);
    const { at } = parseInput(StateAtQuery, query);
    return this.stateAt.execute(new GetConversationStateQuery(ref, at));
  }

  @Post(':id/agent-messages')
  @HttpCode(202)
  async agentMessage(
    @CurrentTenant() tenant: Tenant,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<MessageAccepted> {
    const ref = conversationRef(tenant, id);
    const input = parseInput(AgentMessageBody, body);
    return this.agents.send(
      new SendAgentMessageCommand(ref, input.agentId, input.text, input.clientMessageId ?? null),
    );
  }

  @Post(':id/return-to-bot')
  @HttpCode(200)
  async returnToBot(
    @CurrentTenant() tenant: Tenant,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<ConversationView> {
    const ref = conversationRef(tenant, id);
    const input = parseInput(ReturnToBotBody, body);
    return this.agents.returnToBot(new ReturnToBotCommand(ref, input.agentId));
  }

  @Post()
  @HttpCode(201)
  async start(@CurrentTenant() tenant: Tenant, @Body() body: unknown): Promise<ConversationView> {
    const input = parseInput(StartConversationBody, body);
    return this.startConversation.execute(new StartConversationCommand(tenant.id, input));
  }

  @Post(':id/messages')
  @HttpCode(202)
  async send(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers() headers: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MessageAccepted> {
    const ref = conversationRef(principal.tenant, id);
    const text = (body as { text?: unknown } | undefined)?.text;
    if (typeof text === 'string' && Buffer.byteLength(text, 'utf8') > MAX_MESSAGE_BYTES) {
      throw new AppError(
        'message-too-large',
        `text is ${Buffer.byteLength(text, 'utf8')} bytes; the limit is ${MAX_MESSAGE_BYTES}`,
      );
    }
    const input = parseInput(SendMessageBody, body);
    const idempotencyKey = parseInput(SendMessageHeaders, headers)['idempotency-key'];
    const key = input.clientMessageId ?? idempotencyKey ?? null;
    // A customer message is what makes the model work: it is charged to the tokens per minute.
    await this.limits.admit(principal, 'tokens', estimateTokens(input.text, DEFAULT_REPLY_TOKENS), res);
    return this.sendMessage.execute(new SendMessageCommand(ref, input.text, key));
  }

  @Post(':id/close')
  @HttpCode(200)
  async close(
    @CurrentTenant() tenant: Tenant,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<ConversationView> {
    const ref = conversationRef(tenant, id);
    const input = parseInput(CloseConversationBody, body);
    return this.closeConversation.execute(new CloseConversationCommand(ref, input.reason));
  }

  @Get(':id')
  async get(@CurrentTenant() tenant: Tenant, @Param('id') id: string): Promise<ConversationView> {
    return this.getConversation.execute(new GetConversationQuery(conversationRef(tenant, id)));
  }

  @Get(':id/events')
  async events(
    @CurrentTenant() tenant: Tenant,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<EventPage> {
    const ref = conversationRef(tenant, id);
    const { after, limit } = parseInput(ListEventsQuery, query);
    return this.listEvents.execute(new ListConversationEventsQuery(ref, after, limit));
  }
}
