import {
  Inject,
  Injectable,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { AppError } from '@contracts';
import type { Tenant } from '@libs/event-store';
import { TenantResolver, bearerToken } from './tenant-resolver';

type AuthenticatedRequest = Request & { tenant?: Tenant };

/** Every /v1 route: the tenant comes from the API key, never from the body. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(TenantResolver) private readonly resolver: TenantResolver) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const tenant = await this.resolver.resolve(bearerToken(req.headers.authorization));
    if (!tenant) throw new AppError('unauthorized', 'send `Authorization: Bearer <api key>`');
    req.tenant = tenant;
    return true;
  }
}

export const CurrentTenant = createParamDecorator((_: unknown, context: ExecutionContext): Tenant => {
  const tenant = context.switchToHttp().getRequest<AuthenticatedRequest>().tenant;
  if (!tenant) throw new AppError('unauthorized');
  return tenant;
});
