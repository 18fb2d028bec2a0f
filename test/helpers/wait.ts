// Waiting in tests: for a condition that becomes true on its own (a file watcher's next poll), in
// a bounded loop, not a timing assertion, failing with `what` when it does not hold in time; and
// for the rest of this turn of the event loop, or the next turn.
import { setTimeout as sleep } from 'node:timers/promises';

export async function pollUntil(
  what: string,
  condition: () => Promise<boolean>,
  { timeoutMs = 10_000, intervalMs = 200 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() >= deadline)
      throw new Error(`gave up after ${timeoutMs} ms waiting until ${what}`);
    await sleep(intervalMs);
  }
}

/** Lets the microtasks and process.nextTick callbacks of this turn run, all of them. */
export async function restOfTurn(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise<void>((resolve) => process.nextTick(resolve));
    await Promise.resolve();
  }
}

/** Resolves in the next turn of the event loop (after its I/O). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
