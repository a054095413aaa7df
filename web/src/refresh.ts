/**
 * Reloads a page's live status every `intervalMs` while the browser tab is visible, and at once
 * when it becomes visible again: a hidden tab asks the server nothing.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export class VisibleRefresh implements ReactiveController {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    host: ReactiveControllerHost,
    private readonly load: () => unknown,
    private readonly intervalMs: number,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    document.addEventListener('visibilitychange', this.onVisibility);
    this.timer = setInterval(this.onVisibility, this.intervalMs);
  }

  hostDisconnected(): void {
    document.removeEventListener('visibilitychange', this.onVisibility);
    clearInterval(this.timer);
  }

  private readonly onVisibility = (): void => {
    if (document.visibilityState === 'visible') void this.load();
  };
}
