/**
 * `embed.js`: defines `<trailproof-viewer token="tpv_…">`, the embeddable viewer. It shows the
 * events its viewer token allows (one tenant, maybe narrowed), with search, filters, drawer,
 * in-browser verification and CSV export, in shadow DOM (the host page's CSS cannot leak in, ours
 * cannot leak out), themed through `--tp-*` custom properties. The API is the origin embed.js was
 * loaded from, unless the `api` attribute names another.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { Api, ApiError } from './api.ts';
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
  private client: Api | undefined;

  static override styles = [
    tokens,
    controls,
    css`
    /* contain: the drawer (position: fixed) opens inside the viewer, not over the host page. */
    :host { display: flex; flex-direction: column; height: var(--tp-height, 640px); border: 1px solid var(--_border); border-radius: var(--_radius); padding: 12px; overflow: hidden; position: relative; contain: layout paint; }
    .bar { display: flex; justify-content: space-between; gap: 8px; font-size: 12px; color: var(--_muted); margin-bottom: 8px; }
    tp-events { flex: 1; min-height: 0; }
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

  override render() {
    if (this.error) return html`<div class="error" role="alert" data-viewer-error>${this.error}</div>`;
    if (!this.session || !this.client) return html`<p class="muted">Loading audit log…</p>`;
    const s = this.session;
    const narrowed = [s.actions ? `actions ${s.actions.join(', ')}` : '', s.targets ? `targets ${s.targets.map((t) => `${t.type}:${t.id}`).join(', ')}` : '']
      .filter(Boolean)
      .join('; ');
    return html`<div class="bar"><span>Audit log of <strong>${s.tenant}</strong>${narrowed ? ` (${narrowed})` : nothing}</span><span>access until ${new Date(s.expires_at).toLocaleTimeString()}</span></div>
      <tp-events .api=${this.client} ledgerTenant=${s.tenant} .exportFormats=${['csv']} .verifierKeys=${this.verifierKey.split(/\s+/).filter(Boolean)}></tp-events>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'trailproof-viewer': TrailproofViewer;
  }
}
