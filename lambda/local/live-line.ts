// A status line that rewrites itself on a terminal, and falls back to an occasional plain line when output is not one.

export interface LiveLineTarget {
  /** Raw text, no newline added (a TTY stream's write). */
  write(text: string): void;
}

export class LiveLine {
  private current = '';
  private lastPlain = Number.NEGATIVE_INFINITY;

  /**
   * @param tty where a live line is drawn, or undefined when output is not a terminal
   * @param plain where progress lines go when there is no terminal (one per `plainEvery` of progress)
   */
  constructor(
    private readonly tty: LiveLineTarget | undefined,
    private readonly plain: (line: string) => void,
    private readonly plainEvery = 0.1,
  ) {}

  /** Shows the line; `fraction` (0..1) decides when a plain line is due. */
  update(text: string, fraction: number): void {
    if (this.tty) {
      this.current = text;
      this.tty.write(`\r\x1b[2K${text}`);
      return;
    }
    if (fraction - this.lastPlain >= this.plainEvery || fraction >= 1) {
      this.lastPlain = fraction;
      this.plain(text);
    }
  }

  /** Prints a permanent line above the live one. */
  print(line: string, write: (line: string) => void): void {
    if (this.tty && this.current) this.tty.write('\r\x1b[2K');
    write(line);
    if (this.tty && this.current) this.tty.write(this.current);
  }

  /** Clears the live line for good. */
  done(): void {
    if (this.tty && this.current) this.tty.write('\r\x1b[2K');
    this.current = '';
  }
}

/** `███████░░░░░░░ 47%` */
export function bar(fraction: number, width = 20): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${String(Math.round(fraction * 100)).padStart(3)}%`;
}
