/** A one-line progress bar on stderr, redrawn at most ten times a second. */

const WIDTH = 30;

export class ProgressBar {
  private drawnAt = 0;
  private done = 0;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly total: number,
    private readonly label: string,
  ) {}

  /** Adds `count` finished items and redraws when due. */
  tick(count: number): void {
    this.done += count;
    const now = Date.now();
    if (now - this.drawnAt >= 100) {
      this.drawnAt = now;
      this.draw();
    }
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    this.draw();
    this.stream.write('\n');
  }

  private draw(): void {
    const ratio = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const filled = Math.round(ratio * WIDTH);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}`;
    const counts = `${this.done.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')}`;
    this.stream.write(
      `\r${this.label} [${bar}] ${(ratio * 100).toFixed(0).padStart(3)}% ${counts}`,
    );
  }
}
