/**
 * `embed.js`: defines `<trailproof-viewer token="tpv_…">`, the embeddable viewer. It shows the
 * events its viewer token allows (one tenant, maybe narrowed), with search, filters, drawer,
 * in-browser verification and CSV export, in shadow DOM (the host page's CSS cannot leak in, ours
 * cannot leak out), themed through `--tp-*` custom properties. The API is the origin embed.js was
 * loaded from, unless the `api` attribute names another. A token minted with `alerts: true` also
 * shows the tenant's alert firings, on an Alerts tab.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { Api, ApiError, errorText } from './api.ts';
import { TimeZoneController, timeText } from './time-zone.ts';
import './components/tp-events.ts';
import { controls, tokens } from './theme.ts';

const scriptOrigin = (() => {
  const src = (document.currentScript as HTMLScriptElement | null)?.src;
  return src ? new URL(src).origin : location.origin;
})();

interface Session {
  id: string;
  tenant: string;
  expires_at: string;
  actions: string[] | null;
  targets: { type: string; id: string }[] | null;
  alerts: boolean;
}

/** A firing as a viewer token sees it: what fired, not where it was sent. */
interface Firing {
  id: string;
  rule_name: string;
  group: string;
  fired_at: string;
  summary: string;
}

@customElement('trailproof-viewer')
export class TrailproofViewer extends LitElement {
  @property() token = '';
  /** Base URL of the Trailproof API; default: where embed.js came from. */
  @property() api = '';
  /** Optional pinned verifier key(s), whitespace separated: proofs are checked against these instead of the published key. */
  @property({ attribute: 'verifier-key' }) verifierKey = '';
  @property({ reflect: true }) theme: 'light' | 'dark' | '' = '';
  @state() private session: Session | undefined;
  @state() private error = '';
  @state() private tab: 'events' | 'alerts' = 'events';
  @state() private firings: Firing[] | undefined;
  @state() private firingsError = '';
  protected readonly timeZone = new TimeZoneController(this);
  private client: Api | undefined;

  static override styles = [
    tokens,
    controls,
    css`
    /* contain: the drawer (position: fixed) opens inside the viewer, not over the host page. */
    :host { display: flex; flex-direction: column; height: var(--tp-height, 640px); border: 1px solid var(--_border); border-radius: var(--_radius); padding: 12px; overflow: hidden; position: relative; contain: layout paint; }
    .bar { display: flex; justify-content: space-between; gap: 8px; font-size: 12px; color: var(--_muted); margin-bottom: 8px; }
    tp-events { flex: 1; min-height: 0; }
    tp-events[hidden] { display: none; }
    .tabs { display: flex; gap: 4px; margin-bottom: 8px; }
    .tabs button[aria-pressed='true'] { background: var(--_accent); color: var(--_accent-fg); }
    .alerts { flex: 1; min-height: 0; overflow: auto; }
    .alerts table { border-collapse: collapse; width: 100%; font-size: 13px; }
    .alerts th, .alerts td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--_border); vertical-align: top; }
  `,
  ];

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('token') || changed.has('api')) void this.start();
  }

  private async start(): Promise<void> {
    this.session = undefined;
    this.error = '';
    if (!this.token) {
      this.error = 'No viewer token: set the token attribute.';
      return;
    }
    this.client = new Api((this.api || scriptOrigin).replace(/\/$/, ''), this.token);
    try {
      // Records the session in the tenant's trail and tells us what the token allows.
      this.session = await this.client.post<Session>('/v1/viewer/sessions');
    } catch (err) {
      this.error =
        err instanceof ApiError
          ? err.code === 'VIEWER_TOKEN_EXPIRED'
            ? 'This viewer link has expired. Reload the page to get a new one.'
            : err.code === 'VIEWER_TOKEN_REVOKED'
              ? 'This viewer link was withdrawn. Reload the page to get a new one.'
              : `Access refused: ${err.message} (${err.code})`
          : `Cannot reach the audit log: ${String(err)}`;
    }
  }

  private async showAlerts(): Promise<void> {
    this.tab = 'alerts';
    try {
      this.firings = (await this.client!.get<{ data: Firing[] }>('/v1/alert-firings', new URLSearchParams({ limit: '100' }))).data;
      this.firingsError = '';
    } catch (err) {
      this.firingsError = errorText(err);
    }
  }

  private renderAlerts() {
    if (this.firingsError) return html`<p class="error" role="alert">${this.firingsError}</p>`;
    if (!this.firings) return html`<p class="muted">Loading alerts…</p>`;
    if (this.firings.length === 0) return html`<p>No alerts have fired.</p>`;
    return html`<table>
      <thead><tr><th>Fired</th><th>Rule</th><th>Group</th><th>Summary</th></tr></thead>
      <tbody>${this.firings.map(
        (f) => html`<tr data-firing=${f.id}><td>${timeText(f.fired_at)}</td><td>${f.rule_name}</td><td>${f.group || '—'}</td><td>${f.summary}</td></tr>`,
      )}</tbody>
    </table>`;
  }

  override render() {
    if (this.error) return html`<div class="error" role="alert" data-viewer-error>${this.error}</div>`;
    if (!this.session || !this.client) return html`<p class="muted">Loading audit log…</p>`;
    const s = this.session;
    const narrowed = [s.actions ? `actions ${s.actions.join(', ')}` : '', s.targets ? `targets ${s.targets.map((t) => `${t.type}:${t.id}`).join(', ')}` : '']
      .filter(Boolean)
      .join('; ');
    const events = html`<tp-events ?hidden=${this.tab !== 'events'} .api=${this.client} ledgerTenant=${s.tenant} .exportFormats=${['csv']} .verifierKeys=${this.verifierKey.split(/\s+/).filter(Boolean)}></tp-events>`;
    return html`<div class="bar"><span>Audit log of <strong>${s.tenant}</strong>${narrowed ? ` (${narrowed})` : nothing}</span><span>access until ${new Date(s.expires_at).toLocaleTimeString()}</span></div>
      ${
        s.alerts
          ? html`<div class="tabs" role="group" aria-label="Views">
              <button type="button" aria-pressed=${this.tab === 'events' ? 'true' : 'false'} @click=${() => (this.tab = 'events')}>Events</button>
              <button type="button" aria-pressed=${this.tab === 'alerts' ? 'true' : 'false'} @click=${() => this.showAlerts()}>Alerts</button>
            </div>`
          : nothing
      }
      ${events}${this.tab === 'alerts' ? html`<div class="alerts">${this.renderAlerts()}</div>` : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'trailproof-viewer': TrailproofViewer;
  }
}
