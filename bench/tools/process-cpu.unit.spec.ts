import { burnCpu } from './burn-cpu.fixture';
import { cpuBetween, cpuSnapshot, stackServerGroup, type CpuSnapshot } from './process-cpu';

function snapshot(atMs: number, processes: [number, string, number][]): CpuSnapshot {
  return { atMs, processes: new Map(processes.map(([pid, group, cpuMs]) => [pid, { group, cpuMs }])) };
}

describe('process CPU from /proc', () => {
  it('sees this process spend the CPU it burns, in its group', () => {
    const groupOf = (pid: number) => (pid === process.pid ? 'me' : 'other');
    const before = cpuSnapshot(groupOf);
    burnCpu(300);
    const after = cpuSnapshot(groupOf);
    if (!before || !after) throw new Error('this test needs Linux /proc');

    const { wallMs, byGroup } = cpuBetween(before, after);
    expect(byGroup['me']).toBeGreaterThanOrEqual(280); // /proc counts in 10 ms ticks
    expect(byGroup['me']).toBeLessThanOrEqual(wallMs + 20);
  });

  it('sums a group over its processes, and counts one started in between from its start', () => {
    const before = snapshot(0, [
      [10, 'PostgreSQL', 100],
      [11, 'PostgreSQL', 50],
      [20, 'Kafka', 1_000],
    ]);
    const after = snapshot(2_000, [
      [10, 'PostgreSQL', 130],
      [11, 'PostgreSQL', 60],
      [12, 'PostgreSQL', 5],
      [20, 'Kafka', 1_400],
    ]);

    expect(cpuBetween(before, after)).toEqual({ wallMs: 2_000, byGroup: { PostgreSQL: 45, Kafka: 400 } });
  });

  it('names the local stack’s servers by their command lines', () => {
    expect(stackServerGroup('postgres', 'postgres: convo convo 127.0.0.1(5432) idle')).toBe('PostgreSQL');
    expect(stackServerGroup('java', 'java -Xmx1G kafka.Kafka /etc/server.properties')).toBe('Kafka');
    expect(stackServerGroup('java', 'java org.elasticsearch.bootstrap.Elasticsearch')).toBe('Elasticsearch');
    expect(stackServerGroup('python3', 'python3 -m milvus_lite.server')).toBe('Milvus Lite');
    expect(stackServerGroup('llama-server', 'llama-server --port 18080')).toBe('llama-server');
    expect(stackServerGroup('bash', 'bash')).toBe('other');
  });
});
