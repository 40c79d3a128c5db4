import { DatabaseError } from 'pg';
import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSRequestTimeoutError } from 'kafkajs';
import { CannotExecuteNotConnectedError, ConnectionIsNotSetError, QueryFailedError } from 'typeorm';
import { AppError } from '@contracts';
import { failureKind } from './failure-kind';

/** A PostgreSQL error as pg reports it, with its SQLSTATE. */
function sqlError(code: string, message = 'server error'): DatabaseError {
  return Object.assign(new DatabaseError(message, 0, 'error'), { code });
}

/** What typeorm throws for a failed query: the driver's error inside. */
function queryFailed(driverError: Error): QueryFailedError {
  return new QueryFailedError('SELECT 1', [], driverError);
}

function systemError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, syscall: 'connect' });
}

describe('failureKind', () => {
  describe('given an unreachable dependency, then outage (wait, never park)', () => {
    it.each([
      ['the dependency-unavailable AppError', new AppError('dependency-unavailable', 'index down')],
      ['a refused connection', systemError('ECONNREFUSED')],
      ['a reset connection', systemError('ECONNRESET')],
      ['a DNS failure', systemError('EAI_AGAIN')],
      ['pg: connection lost mid-query', new Error('Connection terminated unexpectedly')],
      ['pg: connect timeout', new Error('Connection terminated due to connection timeout')],
      ['pg-pool: connect timeout', new Error('timeout exceeded when trying to connect')],
      [
        'PostgreSQL shutting down (57P01)',
        sqlError('57P01', 'terminating connection due to administrator command'),
      ],
      ['PostgreSQL crashed (57P02)', sqlError('57P02')],
      ['PostgreSQL starting up (57P03)', sqlError('57P03', 'the database system is starting up')],
      ['a connection exception (08006)', sqlError('08006')],
      ['a connection never made (08001)', sqlError('08001')],
      ['too many connections (53300)', sqlError('53300')],
      ['typeorm: a query whose connection was terminated', queryFailed(sqlError('57P01'))],
      ['typeorm: data source not initialized', new CannotExecuteNotConnectedError('default')],
      ['typeorm: no connection', new ConnectionIsNotSetError('postgres')],
      ['kafkajs: broker unreachable', new KafkaJSConnectionError('Connection error: ECONNREFUSED')],
      ['kafkajs: request timeout', new KafkaJSRequestTimeoutError('Request produce(key: 0) timed out')],
      [
        'kafkajs: retries exhausted on a connection error',
        new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection timeout'), {
          retryCount: 5,
          retryTime: 1_000,
        }),
      ],
      [
        'an error caused by a refused connection',
        new Error('lookup failed', { cause: systemError('ECONNREFUSED') }),
      ],
      [
        'every address refused (AggregateError)',
        new AggregateError([systemError('ECONNREFUSED'), systemError('ECONNREFUSED')], 'connect failed'),
      ],
    ])('%s', (_label, error) => {
      expect(failureKind(error)).toBe('outage');
    });
  });

  describe('given a coded, non-retryable AppError, then rejected (dead-letter at once)', () => {
    it.each([
      ['conversation-closed'],
      ['validation-failed'],
      ['stream-corrupted'],
      ['conversation-not-found'],
    ] as const)('%s', (code) => {
      expect(failureKind(new AppError(code))).toBe('rejected');
    });

    it('also when a wrapper carries it as its cause', () => {
      expect(failureKind(new Error('handler failed', { cause: new AppError('conversation-closed') }))).toBe(
        'rejected',
      );
    });
  });

  describe('given anything else, then transient (retry, then park)', () => {
    it.each([
      ['a retryable AppError other than an outage', new AppError('concurrency-conflict')],
      ['an internal AppError', new AppError('internal')],
      ['a plain Error (a bug)', new Error('Cannot read properties of undefined')],
      ['a TypeError', new TypeError('x is not a function')],
      ['a constraint violation (23505)', queryFailed(sqlError('23505', 'duplicate key value'))],
      ['a syntax error (42601)', sqlError('42601')],
      ['a string', 'something broke'],
      ['undefined', undefined],
      ['null', null],
      ['an object without a code', { message: 'odd' }],
    ])('%s', (_label, error) => {
      expect(failureKind(error)).toBe('transient');
    });
  });

  it('an explicit AppError wins over an outage-looking cause below it', () => {
    const error = new AppError('conversation-closed', 'closed', {});
    Object.assign(error, { cause: systemError('ECONNREFUSED') });

    expect(failureKind(error)).toBe('rejected');
  });

  it('does not loop on an error that is its own cause', () => {
    const error = new Error('self-referential');
    Object.assign(error, { cause: error });

    expect(failureKind(error)).toBe('transient');
  });
});
