// Runs Prometheus's own linter over an exposition: `promtool check metrics` reads it on stdin.
import { spawn } from 'node:child_process';

export interface PromtoolResult {
  /** 0 when the text is valid and lint-clean. */
  code: number;
  /** stdout and stderr together. */
  output: string;
}

export const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

export function checkMetrics(text: string): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', (error) =>
      reject(new Error(`cannot run ${PROMTOOL} (apt-get install prometheus): ${error.message}`)),
    );
    child.once('close', (code, signal) => {
      if (code === null) reject(new Error(`${PROMTOOL} was killed by ${signal}`));
      else resolve({ code, output });
    });
    // promtool may exit before reading everything on a hard error; that is not our failure.
    child.stdin.once('error', () => undefined);
    child.stdin.end(text);
  });
}
