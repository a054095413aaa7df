/**
 * The events table, virtualised: only the rows in view (plus a margin) exist in the DOM, so a
 * trail of a million events scrolls like one of a hundred. Pages load by cursor as the end comes
 * into view (`load-more`). Keyboard: ↑/↓/PageUp/PageDown/Home/End move, Enter opens (`open`).
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { StoredEvent } from '../api.ts';
import { targetText } from '../format.ts';
import { TimeZoneController, timeText, zoneName } from '../time-zone.ts';
import { controls } from '../theme.ts';
import { serviceBadge } from './service-badge.ts';

const ROW = 36;
const OVERSCAN = 12;

@customElement('tp-event-table')
export class TpEventTable extends LitElement {
  @property({ attribute: false }) rows: StoredEvent[] = [];
  @property({ type: Boolean }) hasMore = false;
  @property({ type: Boolean }) loading = false;
  /** Verification marks by uid: true = verified, string = what failed. */
  @property({ attribute: false }) marks: Map<string, true | string> = new Map();
  /** Re-renders this element when the view's time zone changes. */
  protected readonly timeZone = new TimeZoneController(this);
  @state() private scrolled = 0;
  @state() private viewHeight = 480;
  @state() active = -1;
  @query('.viewport') private viewport!: HTMLDivElement;
  private resize = new ResizeObserver(([entry]) => {
    if (entry) this.viewHeight = entry.contentRect.height;
  });

  static override styles = [
    controls,
    css`
    :host { display: flex; flex-direction: column; min-height: 0; background: transparent; }
    .viewport { flex: 1; overflow-y: auto; position: relative; border: 1px solid var(--_border); border-radius: var(--_radius); min-height: 200px; }
    .viewport:focus-visible { outline: 2px solid var(--_focus); }
    .head, .row { display: grid; grid-template-columns: 18px 196px minmax(110px, 1.2fr) minmax(120px, 1.2fr) minmax(120px, 1.5fr) 76px 120px minmax(80px, 1fr); gap: 8px; align-items: center; padding: 0 10px; }
    .head { position: sticky; top: 0; z-index: 1; height: ${ROW}px; background: var(--_surface); border-bottom: 1px solid var(--_border); font-size: 12px; font-weight: 600; color: var(--_muted); }
    .row { position: absolute; left: 0; right: 0; height: ${ROW}px; border-bottom: 1px solid var(--_border); cursor: pointer; white-space: nowrap; }
    .row > span { overflow: hidden; text-overflow: ellipsis; }
    .row:hover { background: var(--_row-hover); }
    .row[aria-selected='true'] { background: var(--_row-hover); box-shadow: inset 3px 0 var(--_accent); }
    .failure { color: var(--_bad); font-weight: 600; }
    .success { color: var(--_ok); }
    .ok { color: var(--_ok); }
    .bad { color: var(--_bad); }
    .foot { position: absolute; left: 0; right: 0; height: ${ROW}px; display: flex; align-items: center; justify-content: center; color: var(--_muted); }
    @media (max-width: 720px) {
      .head, .row { grid-template-columns: 12px 92px minmax(64px, 1fr) minmax(72px, 1.2fr) 56px; gap: 6px; padding: 0 6px; font-size: 12px; }
      .c-targets, .c-ip, .c-location { display: none; }
    }
  `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.updateComplete.then(() => this.viewport && this.resize.observe(this.viewport));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
  }

  /** Scrolls back to the first row (a new filter). */
  reset(): void {
    this.active = -1;
    this.scrolled = 0;
    if (this.viewport) this.viewport.scrollTop = 0;
  }

  override updated(): void {
    // Ask for the next page when the end of the loaded rows is within two screens.
    const lastVisible = Math.floor((this.scrolled + this.viewHeight) / ROW);
    if (this.hasMore && !this.loading && lastVisible + Math.ceil((2 * this.viewHeight) / ROW) >= this.rows.length) {
      this.dispatchEvent(new CustomEvent('load-more'));
    }
  }

  override render() {
    const total = this.rows.length + (this.hasMore || this.loading ? 1 : 0);
    const first = Math.max(0, Math.floor(this.scrolled / ROW) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((this.scrolled + this.viewHeight) / ROW) + OVERSCAN);
    const visible = this.rows.slice(first, last);
    return html`
      <div class="viewport" tabindex="0" role="grid" aria-label="Audit events" aria-rowcount=${this.hasMore ? -1 : this.rows.length + 1}
        aria-activedescendant=${this.active >= 0 ? `r${this.active}` : nothing}
        @scroll=${this.onScroll} @keydown=${this.onKey}>
        <div class="head" role="row" aria-rowindex="1">
          <span role="columnheader"><span class="sr-only">Verified</span></span>
          <span role="columnheader" data-zone>Time (${zoneName()})</span><span role="columnheader">Actor</span><span role="columnheader">Action</span>
          <span role="columnheader" class="c-targets">Targets</span><span role="columnheader">Outcome</span>
          <span role="columnheader" class="c-ip">IP</span><span role="columnheader" class="c-location">Location</span>
        </div>
        <div style="height:${total * ROW}px; position:relative">
          ${visible.map((e, i) => this.renderRow(e, first + i))}
          ${this.loading || this.hasMore ? html`<div class="foot" style="top:${this.rows.length * ROW}px">${this.loading ? 'Loading…' : ''}</div>` : nothing}
          ${!this.loading && this.rows.length === 0 ? html`<div class="foot" style="top:0">No events match these filters.</div>` : nothing}
        </div>
      </div>`;
  }

  private renderRow(e: StoredEvent, index: number) {
    const mark = this.marks.get(e.uid);
    return html`<div class="row" id="r${index}" role="row" aria-rowindex=${index + 2} aria-selected=${index === this.active ? 'true' : 'false'}
        style="top:${index * ROW}px" data-uid=${e.uid} @click=${() => this.open(index)}>
      <span role="gridcell">${mark === undefined ? '' : mark === true ? html`<span class="ok" title="Verified">✓</span>` : html`<span class="bad" title=${mark}>✗</span>`}</span>
      <span role="gridcell" title=${e.occurred_at} data-time>${timeText(e.occurred_at)}</span>
      <span role="gridcell" title=${`${e.actor.type}:${e.actor.id}`}>${e.actor.name ?? e.actor.id}</span>
      <span role="gridcell" class="mono">${serviceBadge(e)}${e.action}</span>
      <span role="gridcell" class="c-targets">${e.targets.map(targetText).join(', ')}</span>
      <span role="gridcell" class=${e.outcome}>${e.outcome}</span>
      <span role="gridcell" class="c-ip mono">${e.context.ip ?? ''}</span>
      <span role="gridcell" class="c-location">${e.context.location ?? ''}</span>
    </div>`;
  }

  private onScroll(): void {
    this.scrolled = this.viewport.scrollTop;
  }

  private open(index: number): void {
    this.active = index;
    const event = this.rows[index];
    if (event) this.dispatchEvent(new CustomEvent('open', { detail: { event, index } }));
  }

  private onKey(e: KeyboardEvent): void {
    const page = Math.max(1, Math.floor(this.viewHeight / ROW) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -Infinity, End: Infinity };
    if (e.key in moves) {
      e.preventDefault();
      const next = Math.max(0, Math.min(this.rows.length - 1, (this.active < 0 ? -1 : this.active) + moves[e.key]!));
      this.active = Number.isFinite(next) ? next : 0;
      this.scrollToActive();
    } else if (e.key === 'Enter' && this.active >= 0) {
      e.preventDefault();
      this.open(this.active);
    }
  }

  private scrollToActive(): void {
    const top = this.active * ROW;
    const bottom = top + 2 * ROW;
    if (top < this.viewport.scrollTop + ROW) this.viewport.scrollTop = Math.max(0, top - ROW);
    else if (bottom > this.viewport.scrollTop + this.viewHeight) this.viewport.scrollTop = bottom - this.viewHeight;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tp-event-table': TpEventTable;
  }
}
