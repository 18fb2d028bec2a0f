// Plain-text tables: one per goal, printed as each suite finishes.

export interface Goal {
  /** What is asked, e.g. `scanopy-metrics ≤ 1.05 × bare`. */
  text: string;
  /** What was measured, e.g. `1.03 ×`. */
  measured: string;
  /** undefined when it could not be judged (a variant failed, or too few samples). */
  met: boolean | undefined;
}

export interface Table {
  title: string;
  /** Lines printed under the title: what is measured, sizes, rounds. */
  notes: string[];
  columns: string[];
  /** The first cell is the variant's name (left-aligned); the others are right-aligned. */
  rows: string[][];
  goals: Goal[];
}

export function verdict(met: boolean | undefined): string {
  return met === undefined ? 'not judged' : met ? 'met' : 'not met';
}

export function renderTable(table: Table): string {
  const widths = table.columns.map((header, i) =>
    Math.max(header.length, ...table.rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [`== ${table.title}`, ...table.notes.map((n) => `   ${n}`), ''];
  out.push(line(table.columns));
  out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of table.rows) out.push(line(row));
  out.push('');
  for (const goal of table.goals) {
    out.push(`goal: ${goal.text}: ${goal.measured} → ${verdict(goal.met)}`);
  }
  return out.join('\n') + '\n';
}

/** A number with `digits` decimals, or `-` when there is none. */
export function fixed(value: number | undefined, digits = 1): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

/** A ratio as `1.03×`. */
export function ratio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '-' : `${value.toFixed(2)}×`;
}

/** An integer with thousands separators. */
export function count(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value)
    ? '-'
    : Math.round(value).toLocaleString('en-US');
}
