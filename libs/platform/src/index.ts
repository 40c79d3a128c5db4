export * from './health';
export * from './logger';
export * from './metrics';
export * from './platform.module';
export * from './run-service';
export * from './http/problem';
export * from './http/problem.filter';
