/**
 * One event in full: every field, the before/after changes as a diff, links to related views, and
 * the result of checking its inclusion proof in this browser. Escape closes it.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { StoredEvent } from '../api.ts';
import { jsonText } from '../format.ts';
import { TimeZoneController, timeText } from '../time-zone.ts';
import { controls } from '../theme.ts';
import type { VerifyResult } from '../verify/proof.ts';
import { serviceBadge } from './service-badge.ts';
import { badgeStyles, verificationBadge } from './verify-badge.ts';

export interface RelatedView {
  label: string;
  filters: Record<string, string>;
}

@customElement('tp-event-drawer')
export class TpEventDrawer extends LitElement {
  @property({ attribute: false }) event: StoredEvent | undefined;
  /** undefined while checking. */
  @property({ attribute: false }) verification: VerifyResult | undefined;
  /** Re-renders this element when the view's time zone changes. */
  protected readonly timeZone = new TimeZoneController(this);

  static override styles = [
    controls,
    badgeStyles,
    css`
    :host { display: block; position: fixed; top: 0; right: 0; bottom: 0; width: min(560px, 100vw); background: var(--_bg); border-left: 1px solid var(--_border); box-shadow: -8px 0 24px rgb(0 0 0 / 0.15); overflow-y: auto; z-index: 10; }
    header { display: flex; align-items: center; justify-content: space-between; gap: 8px; padding: 12px 16px; border-bottom: 1px solid var(--_border); position: sticky; top: 0; background: var(--_bg); }
    h2 { font-size: 16px; margin: 0; font-family: var(--_mono); overflow-wrap: anywhere; }
    section { padding: 12px 16px; border-bottom: 1px solid var(--_border); }
    h3 { font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--_muted); margin: 0 0 8px; }
    dl { display: grid; grid-template-columns: 130px 1fr; gap: 4px 12px; margin: 0; }
    dt { color: var(--_muted); }
    dd { margin: 0; overflow-wrap: anywhere; }
    table.diff { width: 100%; border-collapse: collapse; font-size: 13px; }
    table.diff th { text-align: left; color: var(--_muted); font-weight: 600; padding: 4px; }
    table.diff td { vertical-align: top; padding: 4px; border-top: 1px solid var(--_border); }
    .before { background: var(--_bad-bg); text-decoration: line-through; text-decoration-color: color-mix(in srgb, var(--_bad) 50%, transparent); }
    .after { background: var(--_ok-bg); }
    pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
    ul.related { list-style: none; padding: 0; margin: 0; display: flex; flex-direction: column; gap: 6px; }
    a { color: var(--_accent); }
  `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('keydown', this.onKey);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('keydown', this.onKey);
  }

  private onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') this.close();
  };

  override firstUpdated(): void {
    this.renderRoot.querySelector<HTMLButtonElement>('button.close')?.focus();
  }

  override render() {
    const e = this.event;
    if (!e) return nothing;
    return html`<div role="dialog" aria-modal="false" aria-labelledby="title">
      <header>
        <h2 id="title">${serviceBadge(e)}${e.action}</h2>
        <button class="close" @click=${this.close} aria-label="Close event details">✕</button>
      </header>
      <section aria-live="polite">${verificationBadge(this.verification)}</section>
      <section>
        <h3>Event</h3>
        <dl>
          <dt>Occurred</dt><dd title=${e.occurred_at} data-time>${timeText(e.occurred_at)}</dd>
          <dt>Received</dt><dd title=${e.received_at} data-time>${timeText(e.received_at)}</dd>
          <dt>Outcome</dt><dd>${e.outcome}${e.reason ? ` — ${e.reason}` : ''}</dd>
          <dt>Actor</dt><dd>${e.actor.name ? `${e.actor.name} ` : ''}<span class="mono">${e.actor.type}:${e.actor.id}</span></dd>
          <dt>Targets</dt><dd>${e.targets.length ? e.targets.map((t) => html`<div><span class="mono">${t.type}:${t.id}</span>${t.name ? ` (${t.name})` : ''}</div>`) : '—'}</dd>
          ${Object.entries(e.context).map(([k, v]) => html`<dt>${k.replace('_', ' ')}</dt><dd class="mono">${v}</dd>`)}
          <dt>uid</dt><dd class="mono">${e.uid}</dd>
          <dt>Ledger index</dt><dd class="mono">${e.seq}</dd>
          ${e.id ? html`<dt>Client id</dt><dd class="mono">${e.id}</dd>` : nothing}
          <dt>Tenant</dt><dd class="mono">${e.tenant}</dd>
          <dt>Recorded by</dt><dd>${e.source === 'trailproof' ? 'Trailproof itself (a service record)' : 'an application, with an API key'}</dd>
        </dl>
      </section>
      ${
        e.changes?.length
          ? html`<section>
        <h3>Changes</h3>
        <table class="diff">
          <thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
          <tbody>${e.changes.map(
            (c) => html`<tr>
            <td class="mono">${c.field}</td>
            <td class="before"><span class="sr-only">before: </span><pre>${jsonText(c.before)}</pre></td>
            <td class="after"><span class="sr-only">after: </span><pre>${jsonText(c.after)}</pre></td>
          </tr>`,
          )}</tbody>
        </table>
      </section>`
          : nothing
      }
      ${e.metadata && Object.keys(e.metadata).length ? html`<section><h3>Metadata</h3><pre>${JSON.stringify(e.metadata, null, 2)}</pre></section>` : nothing}
      <section>
        <h3>Related</h3>
        <ul class="related">${this.related(e).map((r) => html`<li><a href="#" @click=${(ev: Event) => this.follow(ev, r)}>${r.label}</a></li>`)}</ul>
      </section>
    </div>`;
  }

  private related(e: StoredEvent): RelatedView[] {
    const day = new Date(e.occurred_at);
    day.setHours(0, 0, 0, 0);
    const next = new Date(day);
    next.setDate(day.getDate() + 1);
    const out: RelatedView[] = [
      {
        label: `Everything ${e.actor.name ?? e.actor.id} did that day`,
        filters: { actor: e.actor.id, range: 'custom', since: day.toISOString(), until: next.toISOString() },
      },
    ];
    for (const t of e.targets)
      out.push({ label: `All events on ${t.type} ${t.name ?? t.id}`, filters: { target_type: t.type, target_id: t.id, range: '30d' } });
    return out;
  }

  private follow(ev: Event, view: RelatedView): void {
    ev.preventDefault();
    this.dispatchEvent(new CustomEvent('related', { detail: view.filters, bubbles: true, composed: true }));
  }

  private close(): void {
    this.dispatchEvent(new CustomEvent('close'));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tp-event-drawer': TpEventDrawer;
  }
}
