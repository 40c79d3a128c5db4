export * from './audit-log.controller';
export * from './audit-log.projection';
export * from './audit-log.repository';
export * from './audit-log.service';
export * from './postgres-merkle-store';
export * from './tree-head-schedule';
export * from './compliance-export';
