/**
 * The one-panel-per-view-type rule, kept apart from vscode so the unit tests can check it: the
 * Explain, Costs and Architecture panels each hold one slot, and a command that opens one of them
 * again shows the open panel instead of making a second.
 */
export class PanelSlot<P extends { reveal(): void }> {
  private open: P | undefined;

  /** The open panel, if there is one. */
  get current(): P | undefined {
    return this.open;
  }

  /** Reveals the open panel and returns it; with none open, makes one with `create`. */
  show(create: () => P): P {
    if (this.open) {
      this.open.reveal();
      return this.open;
    }
    this.open = create();
    return this.open;
  }

  /** Takes a panel VS Code restored after a window reload as the open one. */
  adopt(panel: P): P {
    this.open = panel;
    return panel;
  }

  /**
   * Forgets `panel` once it is disposed, so the next `show` makes a new one. Only the open panel
   * is forgotten: disposing a panel the slot no longer holds leaves the open one alone.
   */
  release(panel: P): void {
    if (this.open === panel) this.open = undefined;
  }
}
