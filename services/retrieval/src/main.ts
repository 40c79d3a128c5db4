import 'reflect-metadata';
import { loadConfigOrExit } from '@libs/config';
import { runService } from '@libs/platform';
import { RetrievalConfigSchema } from './retrieval.config';
import { RetrievalModule } from './retrieval.module';

async function main(): Promise<void> {
  const config = loadConfigOrExit(RetrievalConfigSchema);
  await runService({
    module: RetrievalModule.forRoot(config),
    host: config.HTTP_HOST,
    port: config.RETRIEVAL_PORT,
    consumes: true,
  });
}

void main();
