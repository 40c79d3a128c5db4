export * from './timer.repository';
export * from './timer-scheduler';
