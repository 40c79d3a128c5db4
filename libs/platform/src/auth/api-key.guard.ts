import {
  Inject,
  Injectable,
  SetMetadata,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AppError, type Role } from '@contracts';
import type { Principal, Tenant } from '@libs/event-store';
import { PINO_LOGGER, type Logger } from '../logger';
import { AccessLog } from './access-log';
import { PrincipalResolver, bearerToken } from './principal-resolver';

type AuthenticatedRequest = Request & { principal?: Principal };

const ROLES_KEY = 'convo:roles';

/** The roles a route (or every route of a controller) admits. A route without it admits no one. */
export const Roles = (...roles: [Role, ...Role[]]) => SetMetadata(ROLES_KEY, roles);

/**
 * Every /v1 route: the tenant and role come from the API key, never from the request. A key whose
 * role the route does not admit gets 403 `forbidden`, and the refusal is written to the tenant's
 * access stream (hence its audit log) before the answer.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(PrincipalResolver) private readonly resolver: PrincipalResolver,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(AccessLog) private readonly accessLog: AccessLog,
    @Inject(PINO_LOGGER) private readonly logger: Logger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = await this.resolver.resolve(bearerToken(req.headers.authorization));
    if (!principal) throw new AppError('unauthorized', 'send `Authorization: Bearer <api key>`');
    req.principal = principal;
    const allowed =
      this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, [
        context.getHandler(),
        context.getClass(),
      ]) ?? [];
    if (allowed.includes(principal.role)) return true;
    const route = routePattern(req);
    try {
      await this.accessLog.denied(principal, req.method, route, allowed.length > 0 ? allowed : ['admin']);
    } catch (error) {
      // The refusal stands even if it cannot be recorded; the log says so.
      this.logger.error({ err: error, route, keyId: principal.keyId }, 'could not record an access denial');
    }
    throw new AppError('forbidden', `a ${principal.role} key may not ${req.method} ${route}`, {
      role: principal.role,
      allowed,
    });
  }
}

/** `/v1/conversations/:id/messages`: the pattern, so no identifier or personal data goes in the log. */
function routePattern(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : req.path;
}

export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new AppError('unauthorized');
  return principal;
});

export const CurrentTenant = createParamDecorator((_: unknown, context: ExecutionContext): Tenant => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new AppError('unauthorized');
  return principal.tenant;
});
