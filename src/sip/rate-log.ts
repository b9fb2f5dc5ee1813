/**
 * One log line per interval for events a peer can trigger at will (bad
 * datagrams, handler errors): the rest are counted and reported with the
 * next line, so a flood cannot flood the log.
 */
import type { Logger } from '../util/log.js';

export class RateLimitedLog {
  private last = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 1000,
  ) {}

  warn(line: string): void {
    this.emit('warn', line);
  }

  error(line: string): void {
    this.emit('error', line);
  }

  private emit(level: 'warn' | 'error', line: string): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) {
      this.suppressed++;
      return;
    }
    const more = this.suppressed ? ` (+${this.suppressed} more since the last line)` : '';
    this.last = now;
    this.suppressed = 0;
    this.log[level](`${line}${more}`);
  }
}
