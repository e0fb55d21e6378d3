'use client';

type Task = () => void;
const queue = new Set<Task>();
let scheduled = false;

const requestIdle: (callback: (deadline: { timeRemaining(): number }) => void) => void =
  typeof window !== 'undefined' && 'requestIdleCallback' in window
    ? (callback) => window.requestIdleCallback(callback, { timeout: 500 })
    : (callback) => setTimeout(() => callback({ timeRemaining: () => 8 }), 16);

function pump(deadline: { timeRemaining(): number }): void {
  scheduled = false;
  // At least one task per idle period, more while the frame has time left.
  do {
    const next = queue.values().next();
    if (next.done) return;
    queue.delete(next.value);
    next.value();
  } while (deadline.timeRemaining() > 10);
  schedule();
}

function schedule(): void {
  if (scheduled || queue.size === 0) return;
  scheduled = true;
  requestIdle(pump);
}

/**
 * Runs `task` when the browser is idle, one expensive mount at a time, so fast scrolling through
 * a long notebook never waits for editors to be created. Returns a cancel function.
 */
export function whenIdle(task: Task): () => void {
  queue.add(task);
  schedule();
  return () => queue.delete(task);
}
