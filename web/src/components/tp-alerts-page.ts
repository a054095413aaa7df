/**
 * The console's Alerts page (read keys and up): the tenant's alert rules with what they watch and
 * where they send, their recent firings with delivery state, and the tenant's saved searches, each
 * opening the events view with its filter. Admin keys enable and disable rules here; rules are made
 * through the API (docs/alerts.md), which records every change.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { Api, errorText } from '../api.ts';
import { TimeZoneController, timeText } from '../time-zone.ts';
import { operatorPage } from '../theme.ts';

interface Rule {
  id: string;
  name: string;
  kind: string;
  filter: Record<string, string>;
  saved_search: string | null;
  params: Record<string, unknown>;
  cooldown_seconds: number;
  channels: { type: string }[];
  enabled: boolean;
  builtin: string | null;
}

interface Firing {
  id: string;
  rule: string;
  group: string;
  fired_at: string;
  summary: string;
  delivered_at: string | null;
  last_error: string | null;
}

interface SavedSearch {
  id: string;
  name: string;
  filter: Record<string, string>;
  url: string;
}

@customElement('tp-alerts-page')
export class TpAlertsPage extends LitElement {
  @property({ attribute: false }) api!: Api;
  /** Re-renders this element when the view's time zone changes. */
  protected readonly timeZone = new TimeZoneController(this);
  /** The tenant, for a key bound to no tenant; '' for a bound key (the server uses its tenant). */
  @property() tenant = '';
  /** Whether the key may change rules. */
  @property({ type: Boolean }) admin = false;
  @state() private rules: Rule[] = [];
  @state() private firings: Firing[] = [];
  @state() private searches: SavedSearch[] = [];
  @state() private loaded = false;
  @state() private error = '';

  static override styles = [
    operatorPage,
    css`
    table { border-collapse: collapse; width: 100%; font-size: 13px; }
    th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--_border); vertical-align: top; overflow-wrap: anywhere; }
    .off { color: var(--_muted, inherit); opacity: 0.7; }
    .bad { color: var(--_bad); }
    code { font-family: var(--_mono); font-size: 12px; }
    section { margin-bottom: 20px; overflow-x: auto; }
  `,
  ];

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('tenant') || changed.has('api')) void this.load();
  }

  private async load(): Promise<void> {
    const params = new URLSearchParams(this.tenant ? { tenant: this.tenant } : {});
    try {
      const [rules, firings, searches] = await Promise.all([
        this.api.get<{ data: Rule[] }>('/v1/alert-rules', params),
        this.api.get<{ data: Firing[] }>('/v1/alert-firings', new URLSearchParams({ ...Object.fromEntries(params), limit: '50' })),
        this.api.get<{ data: SavedSearch[] }>('/v1/saved-searches', params),
      ]);
      this.rules = rules.data;
      this.firings = firings.data;
      this.searches = searches.data;
      this.loaded = true;
      this.error = '';
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private async toggle(rule: Rule): Promise<void> {
    try {
      await this.api.patch(`/v1/alert-rules/${encodeURIComponent(rule.id)}`, { enabled: !rule.enabled });
    } catch (err) {
      this.error = errorText(err);
    }
    await this.load();
  }

  override render() {
    if (this.error) return html`<p role="alert" class="bad">${this.error}</p>`;
    if (!this.loaded) return html`<p>Loading…</p>`;
    const names = new Map(this.rules.map((r) => [r.id, r.name]));
    const searchNames = new Map(this.searches.map((s) => [s.id, s.name]));
    return html`
      <section aria-labelledby="rules-h">
        <h2 id="rules-h">Alert rules</h2>
        ${
          this.rules.length === 0
            ? html`<p>No alert rules. Create them with <code>POST /v1/alert-rules</code> (docs/alerts.md).</p>`
            : html`<table>
              <thead><tr><th>Name</th><th>Kind</th><th>Watches</th><th>Condition</th><th>Channels</th><th>State</th></tr></thead>
              <tbody>
                ${this.rules.map(
                  (r) => html`<tr class=${r.enabled ? '' : 'off'} data-rule=${r.id}>
                    <td>${r.name}${r.builtin ? html` <small>(built-in)</small>` : nothing}</td>
                    <td>${r.kind}</td>
                    <td><code>${r.saved_search ? `saved search: ${searchNames.get(r.saved_search) ?? r.saved_search}` : filterText(r.filter)}</code></td>
                    <td><code>${Object.entries(r.params)
                      .map(([k, v]) => `${k}=${v}`)
                      .join(' ')}${r.cooldown_seconds ? ` cooldown=${r.cooldown_seconds}s` : ''}</code></td>
                    <td>${r.channels.map((c) => c.type).join(', ') || '—'}</td>
                    <td>${
                      this.admin
                        ? html`<button type="button" aria-pressed=${r.enabled ? 'true' : 'false'} @click=${() => this.toggle(r)}>${r.enabled ? 'Enabled' : 'Disabled'}</button>`
                        : r.enabled
                          ? 'Enabled'
                          : 'Disabled'
                    }</td>
                  </tr>`,
                )}
              </tbody>
            </table>`
        }
      </section>
      <section aria-labelledby="firings-h">
        <h2 id="firings-h">Recent firings</h2>
        ${
          this.firings.length === 0
            ? html`<p>No firings yet.</p>`
            : html`<table>
              <thead><tr><th>Fired</th><th>Rule</th><th>Group</th><th>Summary</th><th>Delivery</th></tr></thead>
              <tbody>
                ${this.firings.map(
                  (f) => html`<tr data-firing=${f.id}>
                    <td>${timeText(f.fired_at)}</td>
                    <td>${names.get(f.rule) ?? f.rule}</td>
                    <td>${f.group || '—'}</td>
                    <td>${f.summary}</td>
                    <td class=${f.delivered_at ? '' : 'bad'}>${f.delivered_at ? `delivered ${timeText(f.delivered_at)}` : (f.last_error ?? 'pending')}</td>
                  </tr>`,
                )}
              </tbody>
            </table>`
        }
      </section>
      <section aria-labelledby="searches-h">
        <h2 id="searches-h">Saved searches</h2>
        ${
          this.searches.length === 0
            ? html`<p>No saved searches.</p>`
            : html`<ul>
              ${this.searches.map((s) => html`<li><a href=${s.url}>${s.name}</a> <code>${filterText(s.filter)}</code></li>`)}
            </ul>`
        }
      </section>`;
  }
}

function filterText(filter: Record<string, string>): string {
  const parts = Object.entries(filter).map(([k, v]) => `${k}=${v}`);
  return parts.length === 0 ? 'every event' : parts.join(' ');
}
