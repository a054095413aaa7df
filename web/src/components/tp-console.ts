/**
 * The console at `/`: sign in with an admin or read key (kept in sessionStorage, never in the
 * URL), pick a tenant, then events, tenants, keys, streams and ledger pages. The view, tenant and filters
 * live in the URL, so a link shares a view (but never the key).
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { Api, ApiError } from '../api.ts';
import { controls, tokens } from '../theme.ts';
import { setTimeZoneMode, TimeZoneController, timeZoneMode, zoneName } from '../time-zone.ts';
import './tp-events.ts';
import './tp-operator.ts';
import './tp-streams-page.ts';
import './tp-alerts-page.ts';
import './tp-stats-page.ts';

const STORAGE_KEY = 'trailproof.key';
const THEME_KEY = 'trailproof.theme';
type View = 'events' | 'tenants' | 'keys' | 'streams' | 'alerts' | 'stats' | 'ledger';

interface WhoAmI {
  key_id: string;
  name: string;
  scope: 'read' | 'admin' | 'ingest';
  tenant: string | null;
}

@customElement('tp-console')
export class TpConsole extends LitElement {
  @state() private api: Api | undefined;
  @state() private me: WhoAmI | undefined;
  @state() private tenants: string[] = [];
  @state() private tenant = '';
  @state() private view: View = 'events';
  @state() private error = '';
  @state() private busy = false;
  /** Re-renders this element when the view's time zone changes. */
  protected readonly timeZone = new TimeZoneController(this);

  static override styles = [
    tokens,
    controls,
    css`
    :host { display: flex; flex-direction: column; height: 100vh; height: 100dvh; }
    header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; padding: 8px 16px; border-bottom: 1px solid var(--_border); background: var(--_surface); }
    .brand { font-weight: 700; font-size: 16px; }
    nav { display: flex; gap: 4px; flex-wrap: wrap; }
    nav a { padding: 6px 10px; border-radius: var(--_radius); color: var(--_fg); text-decoration: none; }
    nav a[aria-current='page'] { background: var(--_accent); color: var(--_accent-fg); }
    .spacer { flex: 1; }
    header label { flex-direction: row; align-items: center; gap: 6px; }
    main { flex: 1; min-height: 0; display: flex; flex-direction: column; padding: 12px 16px; overflow: auto; }
    main.events { overflow: hidden; }
    @media (max-width: 720px) { main.events { overflow: auto; } header { padding: 8px; } main { padding: 8px; } }
    .signin { max-width: 420px; margin: 12vh auto; display: flex; flex-direction: column; gap: 12px; padding: 24px; border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_surface); }
    .signin h1 { margin: 0; font-size: 20px; }
    .signin input { width: 100%; }
  `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    const theme = localStorage.getItem(THEME_KEY);
    if (theme) this.setAttribute('theme', theme);
    const p = new URLSearchParams(location.search);
    this.view = (['events', 'tenants', 'keys', 'streams', 'alerts', 'stats', 'ledger'] as const).find((v) => v === p.get('view')) ?? 'events';
    this.tenant = p.get('tenant') ?? '';
    const key = sessionStorage.getItem(STORAGE_KEY);
    if (key) void this.signIn(key);
  }

  private async signIn(key: string): Promise<void> {
    this.busy = true;
    this.error = '';
    const api = new Api('', key);
    try {
      const me = await api.get<WhoAmI>('/v1/whoami');
      sessionStorage.setItem(STORAGE_KEY, key);
      this.me = me;
      if (me.tenant) this.tenant = me.tenant;
      else if (me.scope === 'admin') await this.loadTenants(api);
      this.api = api;
    } catch (err) {
      sessionStorage.removeItem(STORAGE_KEY);
      this.error =
        err instanceof ApiError && err.status === 401
          ? 'That key is unknown, revoked or expired.'
          : err instanceof ApiError && err.status === 403
            ? 'That key cannot read (an ingest key?). Sign in with a read or admin key.'
            : String(err);
    } finally {
      this.busy = false;
    }
  }

  private async loadTenants(api = this.api!): Promise<void> {
    const { data } = await api.get<{ data: { id: string }[] }>('/v1/tenants');
    this.tenants = data.map((t) => t.id);
    if (!this.tenant || !this.tenants.includes(this.tenant)) this.tenant = this.tenants.find((t) => t !== '_system') ?? this.tenants[0] ?? '';
    this.replaceUrl();
  }

  private signOut(): void {
    sessionStorage.removeItem(STORAGE_KEY);
    this.api = undefined;
    this.me = undefined;
    history.replaceState(null, '', location.pathname);
  }

  private go(view: View, e?: Event): void {
    e?.preventDefault();
    this.view = view;
    const p = new URLSearchParams(view === 'events' ? location.search : '');
    p.set('view', view);
    if (this.tenant) p.set('tenant', this.tenant);
    history.pushState(null, '', `${location.pathname}?${p}`);
  }

  private replaceUrl(): void {
    const p = new URLSearchParams(location.search);
    if (this.tenant) p.set('tenant', this.tenant);
    history.replaceState(null, '', `${location.pathname}?${p}`);
  }

  private toggleTheme(): void {
    const dark = this.getAttribute('theme') === 'dark' || (!this.hasAttribute('theme') && matchMedia('(prefers-color-scheme: dark)').matches);
    const next = dark ? 'light' : 'dark';
    this.setAttribute('theme', next);
    localStorage.setItem(THEME_KEY, next);
    // Canvas drawings (the histogram) take colours at draw time: ask them to redraw.
    requestAnimationFrame(() => window.dispatchEvent(new Event('trailproof-theme')));
  }

  override render() {
    if (!this.api || !this.me) return this.renderSignIn();
    const admin = this.me.scope === 'admin';
    const unbound = this.me.tenant === null;
    const views: [View, string][] = [
      ['events', 'Events'],
      ...(admin
        ? ([
            ['tenants', 'Tenants'],
            ['keys', 'API keys'],
            ['streams', 'Streams'],
          ] as [View, string][])
        : []),
      ['alerts', 'Alerts'],
      ['stats', 'Stats'],
      ['ledger', 'Ledger'],
    ];
    return html`
      <header>
        <span class="brand">Trailproof</span>
        <nav aria-label="Console pages">${views.map(([v, label]) => html`<a href="?view=${v}" aria-current=${this.view === v ? 'page' : 'false'} @click=${(e: Event) => this.go(v, e)}>${label}</a>`)}</nav>
        <span class="spacer"></span>
        ${
          unbound
            ? admin && this.tenants.length
              ? html`<label>Tenant<select aria-label="Tenant" @change=${(e: Event) => {
                  this.tenant = (e.target as HTMLSelectElement).value;
                  this.replaceUrl();
                }}>
              ${this.tenants.map((t) => html`<option value=${t} ?selected=${t === this.tenant}>${t}</option>`)}</select></label>`
              : html`<label>Tenant<input aria-label="Tenant" .value=${this.tenant} @change=${(e: Event) => {
                  this.tenant = (e.target as HTMLInputElement).value.trim();
                  this.replaceUrl();
                }}></label>`
            : html`<span class="muted">Tenant <strong>${this.me.tenant}</strong></span>`
        }
        <span class="muted" title=${`key ${this.me.key_id}`}>${this.me.name} (${this.me.scope})</span>
        <button type="button" data-time-zone aria-pressed=${timeZoneMode() === 'utc'} title=${`Times are in ${zoneName()}: press to show them in ${timeZoneMode() === 'utc' ? 'your time zone' : 'UTC'}`}
          @click=${() => setTimeZoneMode(timeZoneMode() === 'utc' ? 'local' : 'utc')}>UTC</button>
        <button type="button" @click=${this.toggleTheme} aria-label="Switch light/dark theme">◐</button>
        <button type="button" @click=${this.signOut}>Sign out</button>
      </header>
      <main class=${this.view}>${this.renderView()}</main>`;
  }

  private renderView() {
    const api = this.api!;
    const unbound = this.me!.tenant === null;
    if (
      unbound &&
      !this.tenant &&
      (this.view === 'events' || this.view === 'streams' || this.view === 'alerts' || this.view === 'stats' || this.view === 'ledger')
    )
      return html`<p>Choose a tenant above.</p>`;
    switch (this.view) {
      case 'tenants':
        return html`<tp-tenants-page .api=${api} tenant=${this.tenant} @tenants-changed=${() => this.loadTenants()}></tp-tenants-page>`;
      case 'keys':
        return html`<tp-keys-page .api=${api} boundTenant=${this.me!.tenant ?? ''} ownKeyId=${this.me!.key_id} @sign-out=${this.signOut}></tp-keys-page>`;
      case 'streams':
        return html`<tp-streams-page .api=${api} tenant=${unbound ? this.tenant : ''}></tp-streams-page>`;
      case 'alerts':
        return html`<tp-alerts-page .api=${api} tenant=${unbound ? this.tenant : ''} ?admin=${this.me!.scope === 'admin'}></tp-alerts-page>`;
      case 'stats':
        return html`<tp-stats-page .api=${api} tenant=${unbound ? this.tenant : ''}></tp-stats-page>`;
      case 'ledger':
        return html`<tp-ledger-page .api=${api} tenant=${unbound ? this.tenant : ''}></tp-ledger-page>`;
      default:
        // Keyed by tenant: a new tenant starts a fresh view (its own cursor, verifier key).
        return this.tenantKeyed(html`<tp-events .api=${api} tenant=${unbound ? this.tenant : ''} ledgerTenant=${this.tenant} sync-url></tp-events>`);
    }
  }

  private renderedTenant = '';
  private tenantKeyed(view: unknown) {
    // Lit reuses the element across renders; remounting on a tenant change resets its state.
    if (this.renderedTenant !== this.tenant) {
      this.renderedTenant = this.tenant;
      queueMicrotask(() => this.requestUpdate());
      return nothing;
    }
    return view;
  }

  private renderSignIn() {
    return html`<form class="signin" @submit=${(e: Event) => {
      e.preventDefault();
      const key = String(new FormData(e.target as HTMLFormElement).get('key') ?? '').trim();
      if (key) void this.signIn(key);
    }}>
      <h1>Trailproof console</h1>
      <p class="muted">Sign in with an admin or read API key. It is kept in this browser tab only (session storage) and sent as a header, never in a URL.</p>
      <label for="key">API key</label>
      <input id="key" name="key" type="password" autocomplete="off" required placeholder="tpk_…" autofocus>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <button class="primary" type="submit" ?disabled=${this.busy}>${this.busy ? 'Signing in…' : 'Sign in'}</button>
    </form>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tp-console': TpConsole;
  }
}
