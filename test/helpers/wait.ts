// Waits for a condition that becomes true on its own (a file watcher's next poll): a bounded loop,
// not a timing assertion. Fails with `what` when the condition does not hold in time.
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
