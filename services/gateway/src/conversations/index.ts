export * from './conversations.controller';
export * from './ids';
export { CloseConversationHandler } from './close-conversation';
export { GetConversationHandler } from './get-conversation';
export { ListConversationEventsHandler } from './list-conversation-events';
export { SendMessageHandler } from './send-message';
export { StartConversationHandler } from './start-conversation';
