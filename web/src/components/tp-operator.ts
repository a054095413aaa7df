/** Operator pages of the console: tenants, API keys (create — shown once — and revoke), ledger status (streams: tp-streams-page.ts). */
import { LitElement, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { Api, errorText } from '../api.ts';
import { utcTime } from '../format.ts';
import { operatorPage } from '../theme.ts';

interface Tenant {
  id: string;
  name?: string;
  created_at?: string;
}
interface Key {
  id: string;
  name: string;
  scope: string;
  tenant: string | null;
  created_at: string;
  revoked_at: string | null;
}

@customElement('tp-tenants-page')
export class TpTenantsPage extends LitElement {
  @property({ attribute: false }) api!: Api;
  @state() private tenants: Tenant[] = [];
  @state() private error = '';
  static override styles = operatorPage;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.tenants = (await this.api.get<{ data: Tenant[] }>('/v1/tenants')).data;
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private async create(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    try {
      await this.api.post('/v1/tenants', { id: String(data.get('id')), ...(data.get('name') ? { name: String(data.get('name')) } : {}) });
      form.reset();
      this.error = '';
      this.dispatchEvent(new CustomEvent('tenants-changed', { bubbles: true, composed: true }));
      await this.load();
    } catch (err) {
      this.error = errorText(err);
    }
  }

  override render() {
    return html`<h2>Tenants</h2>
      <form @submit=${this.create} aria-label="Create a tenant">
        <label>Tenant id<input name="id" required pattern="[A-Za-z0-9][A-Za-z0-9_-]*" placeholder="acme"></label>
        <label>Name<input name="name" placeholder="Acme Inc."></label>
        <button class="primary" type="submit">Create tenant</button>
      </form>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <table><thead><tr><th scope="col">Id</th><th scope="col">Name</th><th scope="col">Created</th></tr></thead>
        <tbody>${this.tenants.map((t) => html`<tr><td class="mono">${t.id}</td><td>${t.name ?? ''}</td><td>${t.created_at ? utcTime(t.created_at) : ''}</td></tr>`)}</tbody></table>`;
  }
}

@customElement('tp-keys-page')
export class TpKeysPage extends LitElement {
  @property({ attribute: false }) api!: Api;
  /** The key's own tenant when bound (new keys are bound to it). */
  @property() boundTenant = '';
  @state() private keys: Key[] = [];
  @state() private created: { secret: string; name: string } | undefined;
  @state() private error = '';
  static override styles = operatorPage;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.keys = (await this.api.get<{ data: Key[] }>('/v1/keys')).data;
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private async create(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const tenant = String(data.get('tenant') ?? '').trim();
    try {
      const key = await this.api.post<Key & { secret: string }>('/v1/keys', {
        name: String(data.get('name')),
        scope: String(data.get('scope')),
        ...(tenant ? { tenant } : {}),
      });
      this.created = { secret: key.secret, name: key.name };
      form.reset();
      this.error = '';
      await this.load();
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private async revoke(key: Key): Promise<void> {
    if (!confirm(`Revoke key "${key.name}" (${key.id})? Clients using it stop working at once.`)) return;
    try {
      await this.api.delete(`/v1/keys/${encodeURIComponent(key.id)}`);
      await this.load();
    } catch (err) {
      this.error = errorText(err);
    }
  }

  override render() {
    return html`<h2>API keys</h2>
      <form @submit=${this.create} aria-label="Create an API key">
        <label>Name<input name="name" required maxlength="256" placeholder="billing service"></label>
        <label>Scope<select name="scope"><option value="read">read</option><option value="ingest">ingest</option><option value="admin">admin</option></select></label>
        <label>Tenant${this.boundTenant ? html`<input name="tenant" .value=${this.boundTenant} readonly>` : html`<input name="tenant" placeholder="(all tenants)">`}</label>
        <button class="primary" type="submit">Create key</button>
      </form>
      ${
        this.created
          ? html`<div class="secret" role="status">Key <strong>${this.created.name}</strong> created. It is shown only this once; copy it now:
        <code data-new-key>${this.created.secret}</code>
        <button type="button" @click=${() => void navigator.clipboard?.writeText(this.created!.secret)}>Copy</button>
        <button type="button" @click=${() => (this.created = undefined)}>Done</button></div>`
          : nothing
      }
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <table><thead><tr><th scope="col">Id</th><th scope="col">Name</th><th scope="col">Scope</th><th scope="col">Tenant</th><th scope="col">Created</th><th scope="col">Status</th></tr></thead>
        <tbody>${this.keys.map(
          (k) => html`<tr>
          <td class="mono">${k.id}</td><td>${k.name}</td><td>${k.scope}</td><td>${k.tenant ?? 'all'}</td><td>${utcTime(k.created_at)}</td>
          <td>${k.revoked_at ? html`<span class="muted">revoked</span>` : html`<button type="button" @click=${() => this.revoke(k)} aria-label=${`Revoke key ${k.name}`}>Revoke</button>`}</td>
        </tr>`,
        )}</tbody></table>`;
  }
}

interface LedgerStatus {
  tenant: string;
  origin: string;
  size: number;
  root: string;
  checkpoint: { size: number; root: string; issued_at: string; key_name: string; key_id: string } | null;
  checkpoint_lag: number;
  self_audit: { run: number; started_at: string; finished_at: string | null; ok: boolean | null; report: unknown } | null;
  witnesses: { witness: string; checkpoint_size: number; received_at: string }[];
}

@customElement('tp-ledger-page')
export class TpLedgerPage extends LitElement {
  @property({ attribute: false }) api!: Api;
  @property() tenant = '';
  @state() private status: LedgerStatus | undefined;
  @state() private error = '';
  static override styles = operatorPage;

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('tenant') || changed.has('api')) void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.status = await this.api.get<LedgerStatus>('/v1/ledger/status', new URLSearchParams(this.tenant ? { tenant: this.tenant } : {}));
      this.error = '';
    } catch (err) {
      this.error = errorText(err);
    }
  }

  override render() {
    const s = this.status;
    return html`<h2>Ledger</h2>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${
        s
          ? html`<dl>
        <dt>Log origin</dt><dd class="mono">${s.origin}</dd>
        <dt>Tree size</dt><dd>${s.size.toLocaleString()} events</dd>
        <dt>Root</dt><dd class="mono">${s.root}</dd>
        <dt>Last checkpoint</dt><dd>${s.checkpoint ? html`size ${s.checkpoint.size.toLocaleString()} at ${utcTime(s.checkpoint.issued_at)} <span class="muted">(key ${s.checkpoint.key_name}+${s.checkpoint.key_id})</span>` : 'none yet'}</dd>
        <dt>Not yet checkpointed</dt><dd>${s.checkpoint_lag.toLocaleString()} events</dd>
        <dt>Self-audit</dt><dd>${
          s.self_audit
            ? html`<span class=${s.self_audit.ok ? 'ok' : 'bad'}>${s.self_audit.ok === null ? 'running' : s.self_audit.ok ? '✓ clean' : '✗ problems found'}</span> — run ${s.self_audit.run}, ${utcTime(s.self_audit.started_at)}
          ${s.self_audit.report ? html`<pre>${JSON.stringify(s.self_audit.report, null, 2)}</pre>` : nothing}`
            : 'never run (trailproof ledger audit)'
        }</dd>
        <dt>Witnesses</dt><dd>${s.witnesses.length ? s.witnesses.map((w) => html`<div><span class="mono">${w.witness}</span>: cosigned size ${w.checkpoint_size.toLocaleString()} at ${utcTime(w.received_at)}</div>`) : 'none configured'}</dd>
      </dl>`
          : nothing
      }`;
  }
}
