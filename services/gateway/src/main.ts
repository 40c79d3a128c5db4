import 'reflect-metadata';
import type { Server } from 'node:http';
import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { loadConfigOrExit } from '@libs/config';
import { runService } from '@libs/platform';
import { GatewayConfigSchema } from './gateway.config';
import { GatewayModule } from './gateway.module';
import { jsonBody } from './http/json-body';
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
      app.use(...jsonBody(config.MAX_BODY_BYTES));
      SwaggerModule.setup('docs', app, buildOpenApiDocument() as unknown as OpenAPIObject, {
        jsonDocumentUrl: 'docs/openapi.json',
      });
      app.get(ConversationUpdates).attach(app.getHttpServer() as Server);
    },
  });
}

void main();
