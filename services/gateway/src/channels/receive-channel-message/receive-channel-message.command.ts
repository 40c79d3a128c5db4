import type { InboundChannelMessage } from '../inbound-channel-message';

export class ReceiveChannelMessageCommand {
  constructor(readonly message: InboundChannelMessage) {}
}
