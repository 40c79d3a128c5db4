import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { GatewayClient } from '@libs/client';
import { KeywordIndex, VectorIndex } from '@libs/knowledge-search';
import {
  ServiceProcesses,
  createTenantWithKey,
  createTestDatabase,
  createTestKafka,
  waitFor,
  type TestDatabase,
} from '@test/support';

/**
 * The gateway and retrieval as real processes (from dist/) on the local stack, with a database, topic
 * prefix, Elasticsearch index and Milvus collection of their own, all removed by `stop()`. Sessions,
 * inference and audit stay down: the knowledge benchmarks make no model calls.
 */
export interface KnowledgeStack {
  client: GatewayClient;
  tenantId: string;
  /** Retrieval's own port, for its internal search route. */
  retrievalUrl: string;
  knowledgeIndex: string;
  keywords: KeywordIndex;
  vectors: VectorIndex;
  logDir: string;
  /** Kills and starts retrieval again: a fresh process, with nothing cached. */
  restartRetrieval(): Promise<void>;
  stop(): Promise<void>;
}

export function env(key: string): string {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set: export ~/.cache/convo-engine/stack.env first`);
  return value;
}

export async function startKnowledgeStack(
  label: string,
  basePort: number,
  settings: Record<string, string> = {},
): Promise<KnowledgeStack> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const knowledgeIndex = `bench_${label}_${randomBytes(4).toString('hex')}`;
    const kafka = await createTestKafka(`bench-${label}`);
    cleanups.push(() => kafka.drop());
    const db: TestDatabase = await createTestDatabase(`bench_${label}`);
    cleanups.push(() => db.drop());
    await kafka.ensureTopics();
    const tenantId = 'bench';
    // An agent's key: uploading and deleting documents is not for frontend keys.
    const apiKey = await createTenantWithKey(db.dataSource, tenantId, 'agent');
    const keywords = new KeywordIndex(env('ELASTICSEARCH_URL'), knowledgeIndex, 120_000);
    const vectors = new VectorIndex(
      env('MILVUS_ADDRESS'),
      knowledgeIndex,
      Number(env('EMBEDDINGS_DIMENSIONS')),
      // Building the HNSW index over 100k rows takes minutes on the shared machine.
      30 * 60_000,
    );
    cleanups.push(async () => {
      await Promise.allSettled([keywords.drop(), vectors.drop()]);
      await Promise.allSettled([keywords.close(), vectors.close()]);
    });
    const logDir = join(homedir(), '.cache', 'convo-engine', 'logs', `bench-${kafka.prefix}`);
    const services = new ServiceProcesses(
      {
        ...process.env,
        DATABASE_URL: db.url,
        KAFKA_TOPIC_PREFIX: kafka.prefix,
        GATEWAY_INSTANCE_ID: `bench-${label}`,
        LOG_LEVEL: 'warn',
        KNOWLEDGE_INDEX: knowledgeIndex,
        RETRIEVAL_URL: `http://127.0.0.1:${basePort + 3}`,
        ...settings,
      },
      basePort,
      logDir,
    );
    cleanups.push(() => services.stopAll());
    services.start('gateway');
    services.start('retrieval');
    await Promise.all([services.waitReady('gateway'), services.waitReady('retrieval')]);
    return {
      client: new GatewayClient(services.url('gateway'), apiKey),
      tenantId,
      retrievalUrl: services.url('retrieval'),
      knowledgeIndex,
      keywords,
      vectors,
      logDir,
      restartRetrieval: () => services.restart('retrieval'),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits until every document is indexed (a failed one never is: the timeout names its reason). */
export async function waitIndexed(
  client: GatewayClient,
  documentIds: readonly string[],
  timeoutMs = 30 * 60_000,
): Promise<void> {
  await waitFor(
    `${documentIds.length} documents indexed`,
    async () => {
      for (const documentId of documentIds) {
        const document = await client.getDocument(documentId);
        if (document.status === 'failed') throw new Error(`${documentId} failed: ${document.failure}`);
        if (document.status !== 'indexed') return false;
      }
      return true;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

export { percentile } from '../tools/percentile';
