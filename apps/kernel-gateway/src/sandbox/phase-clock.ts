/**
 * Times the steps of a sandbox's start, wake or sleep for the gateway's log, which is where a slow one
 * is explained (the bench reads them from there): `in 812 ms (setup 40, runsc restore 610, ...)`.
 */
export class PhaseClock {
  private last = performance.now();
  private readonly start = this.last;
  private readonly phases: string[] = [];

  mark(phase: string): void {
    const now = performance.now();
    this.phases.push(`${phase} ${Math.round(now - this.last)}`);
    this.last = now;
  }

  toString(): string {
    return `in ${Math.round(this.last - this.start)} ms (${this.phases.join(', ')})`;
  }
}
