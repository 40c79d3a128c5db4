/** What channels use of the gateway's own conversation use cases: a channel message is a message like any other. */
export {
  REFERENCE_GENERATOR,
  SendMessageCommand,
  SendMessageHandler,
  type ReferenceGenerator,
} from '../conversations';
