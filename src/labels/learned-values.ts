// Label values learned at run time: well-formed identifiers, up to a cap, then `other`.

/**
 * What a learned value must look like: an identifier of ASCII letters, digits and underscores,
 * starting with a letter, at most 64 characters (`Widget`, `OrderLine`, `invoice_paid`). Anything
 * else (spaces, punctuation, non-ASCII, an empty or overlong string) is never learned.
 */
export const LEARNABLE_VALUE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export interface LearnedValuesOptions {
  /** How many values may be learned; 0 learns none. */
  cap: number;
  /** The metric and label, for the warning (`scanopy_events_total`, `entity`). */
  metric: string;
  label: string;
  /** The settings that raise the cap, for the warning. */
  setting: string;
  /** Where the one warning goes (a line on stderr by default). */
  warn: (line: string) => void;
  /** Values the label already gives a meaning (`other`, `unknown`, ...): never learned. */
  reserved?: readonly string[];
}

/**
 * The values of one label of one metric that were counted as themselves although no
 * vocabulary listed them. The first `cap` distinct well-formed values are admitted, for the life
 * of the process; past the cap, a new value is refused (the caller counts it as `other`) and one
 * warning says which cap was reached and which setting raises it. Memory and series stay bounded
 * by the cap whatever is published.
 */
export class LearnedValues {
  private readonly values = new Set<string>();
  private readonly reserved: ReadonlySet<string>;
  private warned = false;

  constructor(private readonly options: LearnedValuesOptions) {
    this.reserved = new Set(options.reserved ?? []);
  }

  /** Whether `value` counts as itself: learned before, or learnable now. */
  admit(value: string): boolean {
    if (this.values.has(value)) return true;
    if (!LEARNABLE_VALUE.test(value) || this.reserved.has(value)) return false;
    if (this.values.size >= this.options.cap) {
      this.warnOnce();
      return false;
    }
    this.values.add(value);
    return true;
  }

  /** How many values were learned. */
  get size(): number {
    return this.values.size;
  }

  private warnOnce(): void {
    if (this.warned) return;
    this.warned = true;
    const { cap, metric, label, setting } = this.options;
    if (cap === 0) return;
    this.options.warn(
      `scanopy-metrics: ${metric}: ${label} reached its cap of ${cap} values beyond the configured` +
        ` vocabulary; further new values are counted as ${label}="other" (raise ${setting}, or` +
        ` list the values in otel-config.yaml)`,
    );
  }
}
