import { describe, expect, it } from 'vitest';
import { type AutoscaleSettings, autoscale, type LoadSample } from './autoscale.ts';
import { LoadHistory } from './load-history.ts';

const settings: AutoscaleSettings = {
  minContainers: 0,
  maxContainers: 10,
  bufferContainers: 1,
  targetInputsPerContainer: 4,
  scaleDownWindowMs: 60_000,
};

/** A small deterministic generator, so a failure replays. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * Drives the policy twice over the same calls, once with every sample kept (what the pool did) and
 * once through the bounded history, applying each decision; returns both replica counts over time.
 */
function compare(policy: AutoscaleSettings, calls: { at: number; inputs: number }[]) {
  const all: LoadSample[] = [];
  const history = new LoadHistory();
  const full: number[] = [];
  const bounded: number[] = [];
  let currentFull = 0;
  let currentBounded = 0;
  let largest = 0;
  for (const { at, inputs } of calls) {
    all.push({ at, inputs });
    history.record(at, inputs);
    const a = autoscale({ settings: policy, current: currentFull, samples: all, now: at });
    const samples = history.samples(at, policy.scaleDownWindowMs);
    const b = autoscale({ settings: policy, current: currentBounded, samples, now: at });
    currentFull += a.start - a.stop;
    currentBounded += b.start - b.stop;
    full.push(currentFull);
    bounded.push(currentBounded);
    largest = Math.max(largest, history.size);
  }
  return { full, bounded, largest };
}

describe('LoadHistory', () => {
  it('decides as the full history on the bursty, dipping and min cases', () => {
    const bursty = (s: number) => (s < 30 ? 0 : s < 90 ? 40 : s < 180 ? 5 : 0);
    const dips = (s: number) => (s % 20 < 15 ? 20 : 0);
    const seconds = (load: (s: number) => number, n: number) =>
      Array.from({ length: n }, (_, s) => ({ at: s * 1000, inputs: load(s) }));
    for (const [policy, calls] of [
      [settings, seconds(bursty, 400)],
      [settings, seconds(dips, 300)],
      [{ ...settings, minContainers: 2 }, seconds(bursty, 400)],
      [{ ...settings, scaleDownWindowMs: 0 }, seconds(bursty, 400)],
    ] as const) {
      const { full, bounded } = compare(policy, calls);
      expect(bounded).toEqual(full);
    }
    // The pool's documented behaviour still holds through the bounded history.
    const { bounded } = compare(settings, seconds(bursty, 400));
    expect([bounded[30], bounded[149], bounded[150], bounded[239], bounded[240]]).toEqual([10, 10, 3, 3, 0]);
  });

  it('decides as the full history on random traffic, calls many to a millisecond', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const next = random(seed);
      const policy = { ...settings, bufferContainers: seed % 2, scaleDownWindowMs: 500 + seed * 700 };
      const calls: { at: number; inputs: number }[] = [];
      let at = 0;
      for (let i = 0; i < 4000; i++) {
        at += next() < 0.3 ? 0 : Math.floor(next() * 200);
        calls.push({ at, inputs: next() < 0.2 ? 0 : Math.floor(next() * 30) });
      }
      const { full, bounded } = compare(policy, calls);
      expect(bounded).toEqual(full);
    }
  });

  it('stays bounded by the load levels seen, not by the calls in an hour-long window', () => {
    const history = new LoadHistory();
    const next = random(42);
    const hour = 3_600_000;
    let largest = 0;
    // 200 000 calls over 20 minutes, all inside the window: the old pool kept every one of them.
    for (let i = 0; i < 200_000; i++) {
      const at = i * 6;
      history.record(at, Math.floor(next() * 64));
      largest = Math.max(largest, history.samples(at, hour).length);
    }
    // At most one entry per load level (0..63), whatever the number of calls.
    expect(largest).toBeLessThanOrEqual(64);
    // The highest load in the window is still remembered for scale-down.
    const decision = autoscale({
      settings: { ...settings, maxContainers: 100, scaleDownWindowMs: hour },
      current: 17,
      samples: history.samples(1_200_000, hour),
      now: 1_200_000,
    });
    expect(decision.desired).toBe(17);
  });

  it('reads a clock that steps back as no time passing', () => {
    const history = new LoadHistory();
    history.record(10_000, 8);
    history.record(9_000, 2);
    expect(history.samples(10_000, 1000)).toEqual([
      { at: 10_000, inputs: 8, until: 10_000 },
      { at: 10_000, inputs: 2, until: Number.POSITIVE_INFINITY },
    ]);
  });
});
