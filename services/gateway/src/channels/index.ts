import { DataSource } from 'typeorm';
import { ChannelConnectors } from './channel-connectors';
import type { ChannelConnector } from './channels.config';
import { CHANNEL_MAX_AGE_MS, ChannelsController } from './channels.controller';
import { ChannelDeliveriesRepository } from './deliveries/channel-deliveries.repository';
import { ChannelDeliveryWorker } from './deliveries/channel-delivery-worker';
import { ReceiveChannelMessageHandler } from './receive-channel-message';

export { ChannelConnectorsSchema } from './channels.config';
export { CHANNEL_ROUTES } from './channels.controller';
export { ChannelDeliveriesProjection } from './deliveries/channel-deliveries.projection';

export const CHANNEL_CONTROLLERS = [ChannelsController];

/** Connectors from the configuration, the webhook use case and the reply delivery worker. */
export function channelProviders(connectors: readonly ChannelConnector[], maxAgeMs: number) {
  return [
    { provide: ChannelConnectors, useValue: new ChannelConnectors(connectors) },
    { provide: CHANNEL_MAX_AGE_MS, useValue: maxAgeMs },
    {
      provide: ChannelDeliveriesRepository,
      inject: [DataSource],
      useFactory: (db: DataSource) => new ChannelDeliveriesRepository(db),
    },
    ReceiveChannelMessageHandler,
    ChannelDeliveryWorker,
  ];
}
