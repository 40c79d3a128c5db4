// Keys, roles and the guard are shared with the audit service: they live in @libs/platform.
export {
  API_KEY_CACHE_TTL_MS,
  AccessLog,
  ApiKeyGuard,
  CurrentPrincipal,
  CurrentTenant,
  PrincipalResolver,
  Roles,
  bearerToken,
} from '@libs/platform';
