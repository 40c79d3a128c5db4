import 'reflect-metadata';
import { loadConfigOrExit } from '@libs/config';
import { runService } from '@libs/platform';
import { SessionsConfigSchema } from './sessions.config';
import { SessionsModule } from './sessions.module';

async function main(): Promise<void> {
  const config = loadConfigOrExit(SessionsConfigSchema);
  await runService({
    module: SessionsModule.forRoot(config),
    host: config.HTTP_HOST,
    port: config.SESSIONS_PORT,
    consumes: true,
  });
}

void main();
