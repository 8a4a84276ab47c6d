/** A pause of automatic completions (5 minutes, an hour, or until VS Code restarts), in memory only. */
import * as vscode from 'vscode';

export class Snooze implements vscode.Disposable {
  private until = 0; // ms since the epoch; Infinity: until restart
  private timer: NodeJS.Timeout | undefined;
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;

  get active(): boolean {
    return Date.now() < this.until;
  }

  /** Minutes left, rounded up, or undefined when it lasts until restart (or is not active). */
  get minutesLeft(): number | undefined {
    return this.active && Number.isFinite(this.until) ? Math.ceil((this.until - Date.now()) / 60_000) : undefined;
  }

  /** Pauses for `ms` (Infinity: until restart). */
  start(ms: number): void {
    this.until = Date.now() + ms;
    clearTimeout(this.timer);
    if (Number.isFinite(ms)) this.timer = setTimeout(() => this.emitter.fire(), ms + 50);
    this.emitter.fire();
  }

  stop(): void {
    this.until = 0;
    clearTimeout(this.timer);
    this.emitter.fire();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.emitter.dispose();
  }
}
