/**
 * What a fuzz run saw, kept small enough for 100,000 inputs: counts per kind of input and per
 * answer, and for each property the number of violations with the first few described.
 */
export class FuzzTally {
  readonly inputs = new Map<string, number>();
  /** `category → answer` (e.g. `cut → no ACK`), counted. */
  readonly answers = new Map<string, number>();
  private readonly violations = new Map<string, { count: number; examples: string[] }>();

  constructor(readonly properties: readonly string[]) {
    for (const property of properties) this.violations.set(property, { count: 0, examples: [] });
  }

  input(category: string): void {
    this.inputs.set(category, (this.inputs.get(category) ?? 0) + 1);
  }

  answer(category: string, answer: string): void {
    const key = `${category} → ${answer}`;
    this.answers.set(key, (this.answers.get(key) ?? 0) + 1);
  }

  fail(property: string, description: string): void {
    let entry = this.violations.get(property);
    if (!entry) this.violations.set(property, (entry = { count: 0, examples: [] }));
    entry.count++;
    if (entry.examples.length < 8) entry.examples.push(description);
  }

  violationsOf(property: string): { count: number; examples: string[] } {
    return this.violations.get(property) ?? { count: 0, examples: [] };
  }

  get totalInputs(): number {
    let total = 0;
    for (const count of this.inputs.values()) total += count;
    return total;
  }

  /** Adds another tally's counts (one per worker) into this one. */
  merge(other: FuzzTally): void {
    for (const [key, count] of other.inputs)
      this.inputs.set(key, (this.inputs.get(key) ?? 0) + count);
    for (const [key, count] of other.answers) {
      this.answers.set(key, (this.answers.get(key) ?? 0) + count);
    }
    for (const property of other.properties) {
      const theirs = other.violationsOf(property);
      const mine = this.violations.get(property) ?? { count: 0, examples: [] };
      mine.count += theirs.count;
      mine.examples.push(...theirs.examples.slice(0, Math.max(0, 8 - mine.examples.length)));
      this.violations.set(property, mine);
    }
  }

  toJSON() {
    return {
      inputs: Object.fromEntries([...this.inputs].sort(([a], [b]) => a.localeCompare(b))),
      answers: Object.fromEntries([...this.answers].sort(([a], [b]) => a.localeCompare(b))),
      violations: Object.fromEntries(
        [...this.violations].map(([property, entry]) => [property, entry.count]),
      ),
    };
  }
}
