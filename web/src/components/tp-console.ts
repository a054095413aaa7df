/**
 * The console at `/`: sign in as a person (SSO, or a one-time link; the session is an `HttpOnly`
 * cookie) or with an admin or read key (kept in sessionStorage, never in the URL), pick a tenant, then events, tenants, keys, streams, ledger, archive and capture pages. The view, tenant and filters
 * live in the URL, so a link shares a view (but never the key).
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { Api, ApiError, SESSION_ENDED_EVENT } from '../api.ts';
import { controls, tokens } from '../theme.ts';
import { setTimeZoneMode, TimeZoneController, timeZoneMode, zoneName } from '../time-zone.ts';
import './tp-events.ts';
import './tp-operator.ts';
import './tp-streams-page.ts';
import './tp-alerts-page.ts';
import './tp-stats-page.ts';
import './tp-users-page.ts';
import './tp-archive-page.ts';
import './tp-capture-page.ts';

const STORAGE_KEY = 'trailproof.key';
const THEME_KEY = 'trailproof.theme';
type View = 'events' | 'tenants' | 'keys' | 'users' | 'streams' | 'alerts' | 'stats' | 'ledger' | 'archive' | 'capture';

interface WhoAmI {
  key_id: string;
  name: string;
  scope: 'read' | 'admin' | 'ingest';
  tenant: string | null;
  /** A person signed in (src/people/): who, and their roles. */
  user?: { id: string; email: string; name: string | null };
  roles?: { role: string; tenant: string | null }[];
}

/** Why a sign-in came back refused (`?sign_in_error=`), in words. */
const SIGN_IN_ERRORS: Record<string, string> = {
  no_role: 'You signed in, but no role is granted to you here. Ask an owner or admin for one.',
  user_disabled: 'Your user is disabled. Ask an owner or admin.',
  oidc_failed: 'The sign-in with your identity provider did not complete. Try again.',
  link_invalid: 'That sign-in link is used, expired or unknown. Ask for a new one.',
  session_ended: 'Your session has ended. Sign in again.',
};

@customElement('tp-console')
export class TpConsole extends LitElement {
  @state() private api: Api | undefined;
  @state() private me: WhoAmI | undefined;
  @state() private tenants: string[] = [];
  @state() private tenant = '';
  @state() private view: View = 'events';
  @state() private error = '';
  @state() private busy = false;
  /** Whether the server offers OIDC sign-in (GET /v1/auth/providers). */
  @state() private sso = false;
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
    .signin a.button { display: block; text-align: center; padding: 8px 12px; border-radius: var(--_radius); text-decoration: none; background: var(--_accent); color: var(--_accent-fg); font-weight: 600; }
  `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    const theme = localStorage.getItem(THEME_KEY);
    if (theme) this.setAttribute('theme', theme);
    const p = new URLSearchParams(location.search);
    this.view =
      (['events', 'tenants', 'keys', 'users', 'streams', 'alerts', 'stats', 'ledger', 'archive', 'capture'] as const).find((v) => v === p.get('view')) ??
      'events';
    this.tenant = p.get('tenant') ?? '';
    const refused = p.get('sign_in_error');
    if (refused) {
      this.error = SIGN_IN_ERRORS[refused] ?? refused;
      p.delete('sign_in_error');
      history.replaceState(null, '', `${location.pathname}${[...p].length ? `?${p}` : ''}`);
    }
    window.addEventListener(SESSION_ENDED_EVENT, this.onSessionEnded);
    const key = sessionStorage.getItem(STORAGE_KEY);
    if (key) void this.signIn(key);
    else void this.resumeSession();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener(SESSION_ENDED_EVENT, this.onSessionEnded);
  }

  private readonly onSessionEnded = (): void => {
    if (!this.me?.user) return;
    this.api = undefined;
    this.me = undefined;
    this.error = SIGN_IN_ERRORS.session_ended!;
    void this.loadProviders();
  };

  /** Signs in with the browser's session cookie, if it holds a live session. */
  private async resumeSession(): Promise<void> {
    const res = await fetch('/v1/auth/session');
    if (!res.ok) return this.loadProviders();
    const { csrf_token } = (await res.json()) as { csrf_token: string };
    const api = new Api('', '', csrf_token);
    const me = await api.get<WhoAmI>('/v1/whoami');
    this.me = me;
    if (me.tenant) this.tenant = me.tenant;
    else await this.loadTenants(api);
    this.api = api;
  }

  private async loadProviders(): Promise<void> {
    const res = await fetch('/v1/auth/providers');
    if (res.ok) this.sso = ((await res.json()) as { oidc: boolean }).oidc;
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
    // A person's session ends on the server too; a key stays valid (it only leaves this tab).
    if (this.me?.user) void this.api?.post('/v1/auth/sign-out').catch(() => {});
    if (this.me?.user) void this.loadProviders();
    sessionStorage.removeItem(STORAGE_KEY);
    this.api = undefined;
    this.me = undefined;
    history.replaceState(null, '', location.pathname);
  }

  private async signOutEverywhere(): Promise<void> {
    await this.api?.post('/v1/auth/sign-out-everywhere').catch(() => {});
    this.signOut();
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
      ...(this.managesPeople() ? ([['users', 'Users']] as [View, string][]) : []),
      ['alerts', 'Alerts'],
      ['stats', 'Stats'],
      ['ledger', 'Ledger'],
      ['archive', 'Archive'],
      ['capture', 'Capture'],
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
        ${
          this.me.user
            ? html`<span class="muted" data-signed-in title=${this.me.user.email}>${this.me.user.name ?? this.me.user.email} (${[...new Set(this.me.roles?.map((g) => g.role))].join(', ')})</span>`
            : html`<span class="muted" title=${`key ${this.me.key_id}`}>${this.me.name} (${this.me.scope})</span>`
        }
        <button type="button" data-time-zone aria-pressed=${timeZoneMode() === 'utc'} title=${`Times are in ${zoneName()}: press to show them in ${timeZoneMode() === 'utc' ? 'your time zone' : 'UTC'}`}
          @click=${() => setTimeZoneMode(timeZoneMode() === 'utc' ? 'local' : 'utc')}>UTC</button>
        <button type="button" @click=${this.toggleTheme} aria-label="Switch light/dark theme">◐</button>
        <button type="button" @click=${this.signOut}>Sign out</button>
        ${this.me.user ? html`<button type="button" @click=${this.signOutEverywhere} title="End every session of yours, in every browser">Sign out everywhere</button>` : nothing}
      </header>
      <main class=${this.view}>${this.renderView()}</main>`;
  }

  private renderView() {
    const api = this.api!;
    const unbound = this.me!.tenant === null;
    if (
      unbound &&
      !this.tenant &&
      (this.view === 'events' ||
        this.view === 'streams' ||
        this.view === 'alerts' ||
        this.view === 'stats' ||
        this.view === 'ledger' ||
        this.view === 'archive' ||
        this.view === 'capture')
    )
      return html`<p>Choose a tenant above.</p>`;
    switch (this.view) {
      case 'tenants':
        return html`<tp-tenants-page .api=${api} tenant=${this.tenant} @tenants-changed=${() => this.loadTenants()}></tp-tenants-page>`;
      case 'keys':
        return html`<tp-keys-page .api=${api} boundTenant=${this.me!.tenant ?? ''} ownKeyId=${this.me!.key_id} @sign-out=${this.signOut}></tp-keys-page>`;
      case 'users':
        return html`<tp-users-page .api=${api} .tenants=${this.tenants} ?canManage=${this.me!.scope === 'admin'} selfId=${this.me!.user?.id ?? ''}></tp-users-page>`;
      case 'streams':
        return html`<tp-streams-page .api=${api} tenant=${unbound ? this.tenant : ''}></tp-streams-page>`;
      case 'alerts':
        return html`<tp-alerts-page .api=${api} tenant=${unbound ? this.tenant : ''} ?admin=${this.me!.scope === 'admin'}></tp-alerts-page>`;
      case 'stats':
        return html`<tp-stats-page .api=${api} tenant=${unbound ? this.tenant : ''}></tp-stats-page>`;
      case 'ledger':
        return html`<tp-ledger-page .api=${api} tenant=${unbound ? this.tenant : ''}></tp-ledger-page>`;
      case 'archive':
        return html`<tp-archive-page .api=${api} tenant=${this.tenant}></tp-archive-page>`;
      case 'capture':
        return html`<tp-capture-page .api=${api} tenant=${this.tenant} ?admin=${this.me!.scope === 'admin'}></tp-capture-page>`;
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

  /** Whether the Users page is shown: admin keys, and people who are owners, admins or auditors. */
  private managesPeople(): boolean {
    if (!this.me) return false;
    if (!this.me.user) return this.me.scope === 'admin';
    return (this.me.roles ?? []).some((g) => g.role === 'owner' || g.role === 'admin' || g.role === 'auditor');
  }

  private renderSignIn() {
    return html`<form class="signin" @submit=${(e: Event) => {
      e.preventDefault();
      const key = String(new FormData(e.target as HTMLFormElement).get('key') ?? '').trim();
      if (key) void this.signIn(key);
    }}>
      <h1>Trailproof console</h1>
      ${this.sso ? html`<a class="button primary" href="/v1/auth/oidc/start" data-sso>Sign in with SSO</a><p class="muted">Or, for machines and operators:</p>` : nothing}
      <p class="muted">Sign in with an admin or read API key. It is kept in this browser tab only (session storage) and sent as a header, never in a URL.</p>
      <label for="key">API key</label>
      <input id="key" name="key" type="password" autocomplete="off" required placeholder="tpk_…" ?autofocus=${!this.sso}>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <button class=${this.sso ? '' : 'primary'} type="submit" ?disabled=${this.busy}>${this.busy ? 'Signing in…' : 'Sign in with the key'}</button>
    </form>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tp-console': TpConsole;
  }
}
