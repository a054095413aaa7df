/**
 * The Capture page (docs/capture.md): for the chosen tenant, each capture relay's backlog (changes
 * waiting in the application's outbox), lag (age of the oldest), parked changes and throughput
 * (GET /v1/capture/status, admin keys), refreshed while the tab is visible; and the reversal plan of
 * one actor's changes (tp-reversal-plan.ts).
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { Api, errorText } from '../api.ts';
import { VisibleRefresh } from '../refresh.ts';
import { operatorPage } from '../theme.ts';
import { TimeZoneController, timeText } from '../time-zone.ts';
import './tp-reversal-plan.ts';

const REFRESH_MS = 5000;

interface CaptureSource {
  source: string;
  running: boolean;
  reachable: boolean;
  installed: boolean;
  backlog: number;
  parked: number;
  oldest_waiting_at: string | null;
  lag_seconds: number;
  relayed: number;
  last_relayed_at: string | null;
  relayed_last_minute: number;
}

@customElement('tp-capture-page')
export class TpCapturePage extends LitElement {
  @property({ attribute: false }) api!: Api;
  @property() tenant = '';
  /** Admin keys see the relays' status; every reader may plan a reversal. */
  @property({ type: Boolean }) admin = false;
  /** Re-renders this element when the view's time zone changes. */
  protected readonly timeZone = new TimeZoneController(this);
  protected readonly refresh = new VisibleRefresh(this, () => this.load(), REFRESH_MS);
  @state() private sources: CaptureSource[] | undefined;
  @state() private error = '';
  private generation = 0;

  static override styles = [
    operatorPage,
    css`
      td.number { text-align: right; font-variant-numeric: tabular-nums; }
      section { margin-top: 20px; }
    `,
  ];

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('tenant') || changed.has('api') || changed.has('admin')) {
      this.sources = undefined;
      void this.load();
    }
  }

  private async load(): Promise<void> {
    if (!this.admin || !this.tenant) return;
    const generation = ++this.generation;
    try {
      const { sources } = await this.api.get<{ sources: CaptureSource[] }>('/v1/capture/status', new URLSearchParams({ tenant: this.tenant }));
      if (generation !== this.generation) return;
      this.sources = sources;
      this.error = '';
    } catch (err) {
      if (generation === this.generation) this.error = errorText(err);
    }
  }

  override render() {
    return html`<h2>Database capture of ${this.tenant}</h2>
      ${this.admin ? this.renderRelays() : nothing}
      <tp-reversal-plan .api=${this.api} tenant=${this.tenant}></tp-reversal-plan>`;
  }

  private renderRelays() {
    const sources = this.sources;
    return html`<section aria-labelledby="relays-title">
      <h3 id="relays-title">Relays</h3>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${
        !sources
          ? nothing
          : sources.length === 0
            ? html`<p class="muted" data-no-relays>This server relays no application database (TRAILPROOF_CAPTURE_DATABASE_URL is not set).</p>`
            : html`<table aria-labelledby="relays-title"><thead><tr>
            <th scope="col">Application database</th><th scope="col">State</th><th scope="col">Backlog</th><th scope="col">Oldest waiting</th>
            <th scope="col">Parked</th><th scope="col">Last relayed</th><th scope="col">Last minute</th><th scope="col">Since start</th>
          </tr></thead>
          <tbody>${sources.map(
            (s) => html`<tr data-source=${s.source}>
              <td class="mono">${s.source}</td>
              <td data-state>${sourceState(s)}</td>
              <td class="number" data-backlog>${s.backlog.toLocaleString()}</td>
              <td data-lag>${s.oldest_waiting_at ? html`<span title=${s.oldest_waiting_at}>${durationText(s.lag_seconds)} ago</span>` : html`<span class="muted">none waiting</span>`}</td>
              <td class="number">${s.parked ? html`<span class="bad">${s.parked.toLocaleString()}</span>` : '0'}</td>
              <td data-last-relayed>${s.last_relayed_at ? timeText(s.last_relayed_at) : html`<span class="muted">not yet</span>`}</td>
              <td class="number" data-throughput>${s.relayed_last_minute.toLocaleString()}/min</td>
              <td class="number" data-relayed>${s.relayed.toLocaleString()}</td>
            </tr>`,
          )}</tbody></table>
          <p class="muted">Backlog, lag and parked count this tenant's changes in each outbox; the last three columns, what this server relayed into its trail.</p>`
      }
    </section>`;
  }
}

function sourceState(s: CaptureSource) {
  if (!s.reachable) return html`<span class="bad">unreachable</span>`;
  if (!s.installed) return html`<span class="muted">capture not installed</span>`;
  return s.running ? html`<span class="ok">relaying</span>` : html`<span class="muted">not relayed by this server</span>`;
}

/** Seconds as the largest whole units that say it: 42 s, 3 min 5 s, 2 h 10 min. */
function durationText(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

declare global {
  interface HTMLElementTagNameMap {
    'tp-capture-page': TpCapturePage;
  }
}
