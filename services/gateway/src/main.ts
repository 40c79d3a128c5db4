import 'reflect-metadata';
import type { Server } from 'node:http';
import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { loadConfigOrExit } from '@libs/config';
import { PINO_LOGGER, runService, type Logger } from '@libs/platform';
import { GatewayConfigSchema } from './gateway.config';
import { GatewayModule } from './gateway.module';
import { fileBody } from './http/file-body';
import { jsonBody } from './http/json-body';
import { routeJsonBody } from './http/route-json-body';
import { CONTENT_FILTER_ROUTE } from './content-filter';
import { CHANNEL_ROUTES } from './channels';
import { methodNotAllowed, type DeclaredPaths } from './http/method-not-allowed';
import { buildOpenApiDocument } from './http/openapi';
import { ConversationUpdates } from './updates';

async function main(): Promise<void> {
  const config = loadConfigOrExit(GatewayConfigSchema);
  await runService({
    module: GatewayModule.forRoot(config),
    host: config.HTTP_HOST,
    port: config.GATEWAY_PORT,
    consumes: true,
    bodyParser: false,
    configure: (app) => {
      const document = buildOpenApiDocument({ maxFileBytes: config.KNOWLEDGE_MAX_FILE_BYTES });
      app.use(methodNotAllowed(document.paths as DeclaredPaths));
      const logger = app.get<Logger>(PINO_LOGGER);
      app.use(...fileBody(config.KNOWLEDGE_MAX_FILE_BYTES, logger));
      app.use(
        ...routeJsonBody(
          [
            { ...CONTENT_FILTER_ROUTE, maxBytes: config.CONTENT_FILTER_MAX_BYTES },
            // Webhooks: the usual limit, with the raw bytes kept for Feishu's signature.
            ...CHANNEL_ROUTES.map((route) => ({ ...route, maxBytes: config.MAX_BODY_BYTES })),
          ],
          logger,
        ),
      );
      app.use(...jsonBody(config.MAX_BODY_BYTES, logger));
      SwaggerModule.setup('docs', app, document as unknown as OpenAPIObject, {
        jsonDocumentUrl: 'docs/openapi.json',
      });
      app.get(ConversationUpdates).attach(app.getHttpServer() as Server);
    },
  });
}

void main();
