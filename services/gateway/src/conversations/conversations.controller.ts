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
  UseGuards,
} from '@nestjs/common';
import { AppError, MAX_MESSAGE_BYTES } from '@contracts';
import type { ConversationView } from '@libs/conversation';
import type { Tenant } from '@libs/event-store';
import { ApiKeyGuard, CurrentTenant, Roles } from '../auth';
import { parseInput } from '../http/parse-input';
import { CloseConversationCommand, CloseConversationHandler } from './close-conversation';
import { conversationRef } from './conversation-ref';
import {
  CloseConversationBody,
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
  ) {}

  @Post()
  @HttpCode(201)
  async start(@CurrentTenant() tenant: Tenant, @Body() body: unknown): Promise<ConversationView> {
    const input = parseInput(StartConversationBody, body);
    return this.startConversation.execute(new StartConversationCommand(tenant.id, input));
  }

  @Post(':id/messages')
  @HttpCode(202)
  async send(
    @CurrentTenant() tenant: Tenant,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers() headers: unknown,
  ): Promise<MessageAccepted> {
    const ref = conversationRef(tenant, id);
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
