// Import problems, grouped by cause: a model whose 42 initializers share one problem gets one
// line with the count and the first few names, not 42 lines.

const SINGULAR: Record<string, string> = { have: 'has', use: 'uses', point: 'points', are: 'is', need: 'needs' };
const SHOWN = 3;

interface Group { noun: string; cause: string; subjects: string[]; detail: string }

export class ProblemList {
  private readonly items: (string | Group)[] = [];
  private readonly groups = new Map<string, Group>();

  /** A problem of its own (already a sentence). */
  add(message: string): void {
    if (!this.items.includes(message)) this.items.push(message);
  }

  /**
   * One subject (e.g. initializer "w") with a cause that many subjects can share. `cause` is a
   * plural verb phrase ("have data type FLOAT16; ..."); `detail` is kept for the first subject only.
   */
  group(noun: string, subject: string, cause: string, detail = ''): void {
    const key = `${noun}\u0000${cause}`;
    let g = this.groups.get(key);
    if (!g) {
      g = { noun, cause, subjects: [], detail };
      this.groups.set(key, g);
      this.items.push(g);
    }
    g.subjects.push(subject);
  }

  get length(): number {
    return this.items.length;
  }

  /** One line per cause. */
  lines(): string[] {
    return this.items.map((it) => {
      if (typeof it === 'string') return it;
      const n = it.subjects.length;
      if (n === 1) {
        const [verb, ...rest] = it.cause.split(' ');
        return `${it.noun} "${it.subjects[0]}"${it.detail} ${[SINGULAR[verb!] ?? verb, ...rest].join(' ')}`;
      }
      const shown = it.subjects.slice(0, SHOWN).map((s) => `"${s}"`).join(', ');
      const more = n > SHOWN ? ` and ${n - SHOWN} more` : '';
      return `${n} ${it.noun}s (${shown}${more}) ${it.cause}`;
    });
  }
}
