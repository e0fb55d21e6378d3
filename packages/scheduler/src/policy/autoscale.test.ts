import { DomainError } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { type AutoscaleSettings, autoscale, type LoadSample } from './autoscale.ts';

const settings: AutoscaleSettings = {
  minContainers: 0,
  maxContainers: 10,
  bufferContainers: 1,
  targetInputsPerContainer: 4,
  scaleDownWindowMs: 60_000,
};

/** Feeds one load sample per second through the policy and applies each decision at once. */
function simulate(policy: AutoscaleSettings, loadAt: (second: number) => number, seconds: number): number[] {
  const samples: LoadSample[] = [];
  const replicas: number[] = [];
  let current = 0;
  for (let second = 0; second < seconds; second++) {
    const now = second * 1000;
    samples.push({ at: now, inputs: loadAt(second) });
    const decision = autoscale({ settings: policy, current, samples, now });
    expect(decision.start === 0 || decision.stop === 0).toBe(true);
    current += decision.start - decision.stop;
    expect(current).toBe(decision.desired);
    replicas.push(current);
  }
  return replicas;
}

describe('autoscale', () => {
  // Idle 30 s, a burst of 40 inputs for 60 s, a tail of 5 for 90 s, idle after.
  const bursty = (s: number) => (s < 30 ? 0 : s < 90 ? 40 : s < 180 ? 5 : 0);

  it('scales from zero at once, holds through the burst, and never goes above max', () => {
    const replicas = simulate(settings, bursty, 400);
    expect(replicas.slice(0, 30).every((n) => n === 0)).toBe(true);
    // 40 inputs / 4 per container + 1 buffer = 11, capped at 10, on the first second of load.
    expect(replicas[30]).toBe(10);
    expect(replicas.slice(30, 90).every((n) => n === 10)).toBe(true);
    expect(Math.max(...replicas)).toBe(10);
  });

  it('waits a whole scale-down window before stopping containers, then drains to zero', () => {
    const replicas = simulate(settings, bursty, 400);
    // The tail needs ceil(5 / 4) + 1 = 3; the burst's need stays in the 60 s window until second 150.
    expect(replicas[149]).toBe(10);
    expect(replicas[150]).toBe(3);
    expect(replicas[239]).toBe(3);
    expect(replicas[240]).toBe(0);
    expect(replicas.slice(240).every((n) => n === 0)).toBe(true);
  });

  it('does not flap when the load dips for less than the window', () => {
    const dips = (s: number) => (s % 20 < 15 ? 20 : 0);
    const replicas = simulate(settings, dips, 300);
    expect(new Set(replicas.slice(1))).toEqual(new Set([6]));
  });

  it('never goes below min, even with no load at all', () => {
    const replicas = simulate({ ...settings, minContainers: 2 }, bursty, 400);
    expect(Math.min(...replicas)).toBe(2);
    expect(replicas[0]).toBe(2);
    expect(replicas[399]).toBe(2);
  });

  it('stops containers above a lowered max at once', () => {
    const decision = autoscale({
      settings: { ...settings, maxContainers: 3 },
      current: 8,
      samples: [{ at: 0, inputs: 100 }],
      now: 1000,
    });
    expect(decision).toEqual({ desired: 3, start: 0, stop: 5 });
  });

  it('refuses settings that cannot hold', () => {
    const bad = { ...settings, minContainers: 5, maxContainers: 2 };
    expect(() => autoscale({ settings: bad, current: 0, samples: [], now: 0 })).toThrow(DomainError);
    expect(() =>
      autoscale({ settings: { ...settings, targetInputsPerContainer: 0 }, current: 0, samples: [], now: 0 }),
    ).toThrow(/at least 1/);
  });
});
