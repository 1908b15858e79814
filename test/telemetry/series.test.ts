import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from '../../src/telemetry/series.ts';

const BOUNDS = [0.005, 0.01, 0.1, 1, 10];
const label = fc.constantFrom('a', 'b', 'c');

describe('HotCounter and HotHistogram expose exactly what prom-client would', () => {
  it('the same updates give the same exposition text, bucket edges included', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            route: label,
            target: label,
            // Values on the bucket bounds land in that bucket (le is "less than or equal").
            value: fc.oneof(fc.constantFrom(...BOUNDS, 0), fc.double({ min: 0, max: 20, noNaN: true })),
          }),
          { maxLength: 60 },
        ),
        async (updates) => {
          const hot = new Registry();
          const ref = new Registry();
          const hotCounter = new HotCounter({
            name: 'c_total',
            help: 'help',
            labelNames: ['route', 'target'],
            registry: hot,
          });
          const hotHistogram = new HotHistogram({
            name: 'h_seconds',
            help: 'help',
            labelNames: ['route', 'target'],
            buckets: BOUNDS,
            registry: hot,
          });
          const refCounter = new Counter({
            name: 'c_total',
            help: 'help',
            labelNames: ['route', 'target'],
            registers: [ref],
          });
          const refHistogram = new Histogram({
            name: 'h_seconds',
            help: 'help',
            labelNames: ['route', 'target'],
            buckets: BOUNDS,
            registers: [ref],
          });
          for (const { route, target, value } of updates) {
            hotCounter.inc([route, target], value);
            hotHistogram.observe([route, target], value);
            refCounter.inc({ route, target }, value);
            refHistogram.observe({ route, target }, value);
          }
          const sorted = (text: string) => text.split('\n').sort().join('\n');
          assert.equal(sorted(await hot.metrics()), sorted(await ref.metrics()));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('resetMetrics empties every series', async () => {
    const registry = new Registry();
    const counter = new HotCounter({ name: 'c_total', help: 'help', labelNames: ['route'], registry });
    counter.inc(['a'], 2);
    registry.resetMetrics();
    assert.doesNotMatch(await registry.metrics(), /c_total\{/);
    counter.inc(['a']);
    assert.match(await registry.metrics(), /c_total\{route="a"\} 1/);
  });
});
