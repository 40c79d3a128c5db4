import { Body, Controller, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { AppError } from '@contracts';
import type { Principal } from '@libs/event-store';
import { ApiKeyGuard, CurrentPrincipal, Roles } from '@libs/platform';
import { parseInput } from '../http/parse-input';
import {
  EraseConversationBodySchema,
  EraseConversationCommand,
  EraseConversationHandler,
  type ErasureResult,
} from './erase-conversation';

/**
 * Erasure (PIPL art. 47, GDPR art. 17) by crypto-shredding, for compliance keys only. On the audit
 * service, which is internal (no Ingress) and already holds the compliance tools (exports, raw
 * replays), rather than on the public gateway: the one irreversible operation stays off the edge.
 */
@Controller('v1/conversations')
@UseGuards(ApiKeyGuard)
@Roles('compliance')
export class ErasureController {
  constructor(@Inject(EraseConversationHandler) private readonly erase: EraseConversationHandler) {}

  /**
   * Shreds the conversation's data key and records who, when and why as `conversation.erased.v1` in
   * its stream (so in the tenant's audit log). 200 either way; `status` says whether this request
   * erased it or an earlier one had. Another tenant's conversation is 404, like an unknown one.
   */
  @Post(':conversationId/erasure')
  @HttpCode(200)
  async eraseConversation(
    @CurrentPrincipal() principal: Principal,
    @Param('conversationId') conversationId: string,
    @Body() body: unknown,
  ): Promise<ErasureResult> {
    if (!z.uuid().safeParse(conversationId).success) throw new AppError('conversation-not-found');
    const { reason, reference } = parseInput(EraseConversationBodySchema, body);
    return this.erase.execute(
      new EraseConversationCommand(principal, conversationId, reason, reference ?? null),
    );
  }
}
