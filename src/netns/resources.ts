// Every kernel object and process we create is recorded here and released in reverse order,
// also when setup fails half-way; what the user brought is never recorded, so never removed.

type Release = () => Promise<void> | void;

export class Resources {
  private readonly releases: { what: string; release: Release }[] = [];

  /** Records how to undo something just created. */
  add(what: string, release: Release): void {
    this.releases.push({ what, release });
  }

  /** Releases everything, newest first; failures are collected so one cannot strand the rest. */
  async release(): Promise<void> {
    const failures: string[] = [];
    while (this.releases.length > 0) {
      const { what, release } = this.releases.pop()!;
      try {
        await release();
      } catch (e) {
        failures.push(`${what}: ${(e as Error).message}`);
      }
    }
    if (failures.length > 0) throw new Error(`cleanup left work undone:\n  ${failures.join('\n  ')}`);
  }
}
