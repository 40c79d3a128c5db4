import { burnCpu } from '../tools/burn-cpu.fixture';
import { LevelCpuMeter, aboveIdle, cpuMarkdown } from './level-cpu';

describe('LevelCpuMeter', () => {
  it('divides a level’s CPU by its turns, and takes the idle rate off', async () => {
    const meter = new LevelCpuMeter(new Map(), 300);
    const idle = await meter.sampleIdle();
    if (!idle) throw new Error('this test needs Linux /proc');
    expect(idle.msPerSecond['benchmark client'] ?? 0).toBeLessThan(500); // mostly asleep

    meter.start();
    burnCpu(400);
    const level = meter.stop(1, 4);
    if (!level) throw new Error('this test needs Linux /proc');

    const client = level.msPerTurn['benchmark client'] ?? 0;
    expect(client).toBeGreaterThanOrEqual(95); // 100 ms of CPU a turn, in 10 ms ticks
    expect(client).toBeLessThanOrEqual(150);
    const idleShare = ((idle.msPerSecond['benchmark client'] ?? 0) * level.wallMs) / 1000 / 4;
    expect(aboveIdle(level, idle)['benchmark client']).toBeCloseTo(client - idleShare, 6);
  });

  it('prints a row per process, heaviest first, with the totals', () => {
    // Idle over a level's second, per turn of two: Kafka 5 ms, PostgreSQL 2 ms.
    const idle = { wallMs: 5_000, msPerSecond: { Kafka: 10, PostgreSQL: 4 }, coresBusy: 0.01 };
    const level = (concurrency: number, postgres: number, kafka: number) => ({
      concurrency,
      wallMs: 1_000,
      msPerTurn: { Kafka: kafka + 5, PostgreSQL: postgres + 2 },
      completedTurns: 2,
      coresBusy: 1.5,
    });

    const table = cpuMarkdown([level(1, 5, 30), level(50, 20, 10)], idle);

    expect(table).toContain('0.01 cores busy; CPU ms a second by process: Kafka 10.0, PostgreSQL 4.0.');
    expect(table).toMatch(/\| PostgreSQL \| 5\.0 \| 20\.0 \|\n\| Kafka \| 30\.0 \| 10\.0 \|/);
    expect(table).toContain('| **all** | **35.0** | **30.0** |');
    expect(table).toContain('| all, the idle rate included | 42.0 | 37.0 |');
    expect(table).toContain('| cores busy (all CPU / wall) | 1.50 | 1.50 |');
  });
});
