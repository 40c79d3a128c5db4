import 'reflect-metadata';
import { loadConfigOrExit } from '@libs/config';
import { runService } from '@libs/platform';
import { AuditConfigSchema } from './audit.config';
import { AuditModule } from './audit.module';

async function main(): Promise<void> {
  const config = loadConfigOrExit(AuditConfigSchema);
  await runService({
    module: AuditModule.forRoot(config),
    host: config.HTTP_HOST,
    port: config.AUDIT_PORT,
    consumes: false,
  });
}

void main();
