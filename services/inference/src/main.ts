import 'reflect-metadata';
import { loadConfigOrExit } from '@libs/config';
import { runService } from '@libs/platform';
import { InferenceConfigSchema } from './inference.config';
import { InferenceModule } from './inference.module';

async function main(): Promise<void> {
  const config = loadConfigOrExit(InferenceConfigSchema);
  await runService({
    module: InferenceModule.forRoot(config),
    host: config.HTTP_HOST,
    port: config.INFERENCE_PORT,
    consumes: true,
  });
}

void main();
