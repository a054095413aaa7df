/**
 * Operator pages of the console: tenants (with the chosen tenant's retention and legal holds,
 * tp-tenant-lifecycle.ts), API keys (create — shown once — and revoke), ledger status (streams:
 * tp-streams-page.ts).
 */
import { LitElement, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { Api, errorText } from '../api.ts';
import { TimeZoneController, timeText } from '../time-zone.ts';
import { operatorPage } from '../theme.ts';
import './tp-tenant-lifecycle.ts';

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
  /** Re-renders this element when the view's time zone changes. */
  protected readonly timeZone = new TimeZoneController(this);
  /** The tenant chosen in the console, whose page (retention, legal holds) is shown below the list. */
  @property() tenant = '';
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
        <tbody>${this.tenants.map((t) => html`<tr><td class="mono">${t.id}</td><td>${t.name ?? ''}</td><td>${t.created_at ? timeText(t.created_at) : ''}</td></tr>`)}</tbody></table>
      ${this.tenant ? html`<tp-tenant-lifecycle .api=${this.api} tenant=${this.tenant} admin></tp-tenant-lifecycle>` : nothing}`;
  }
}

@customElement('tp-keys-page')
export class TpKeysPage extends LitElement {
  @property({ attribute: false }) api!: Api;
  /** The key's own tenant when bound (new keys are bound to it). */
  @property() boundTenant = '';
  /** The id of the key the console is signed in with: revoking it signs the console out. */
  @property() ownKeyId = '';
  /** Re-renders this element when the view's time zone changes. */
  protected readonly timeZone = new TimeZoneController(this);
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
    const own = key.id === this.ownKeyId;
    const question = own
      ? `Revoke key "${key.name}" (${key.id})? It is the key you are signed in with: revoking it signs you out of this console at once, and clients using it stop working.`
      : `Revoke key "${key.name}" (${key.id})? Clients using it stop working at once.`;
    if (!confirm(question)) return;
    try {
      await this.api.delete(`/v1/keys/${encodeURIComponent(key.id)}`);
      if (own) {
        this.dispatchEvent(new CustomEvent('sign-out', { bubbles: true, composed: true }));
        return;
      }
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
          <td class="mono">${k.id}</td><td>${k.name}${k.id === this.ownKeyId ? html` <span class="muted" data-own-key>(signed in)</span>` : nothing}</td><td>${k.scope}</td><td>${k.tenant ?? 'all'}</td><td>${timeText(k.created_at)}</td>
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
  self_audit: { run: number; started_at: string; finished_at: string | null; ok: boolean | null; report: TenantAudit | null } | null;
  witnesses: { witness: string; checkpoint_size: number; received_at: string }[];
}

/** One tenant's part of a self-audit run (src/tlog/self-audit.ts). */
interface TenantAudit {
  size?: number;
  findings?: number;
  first?: { kind: string; index: number | null; detail: string } | null;
}

@customElement('tp-ledger-page')
export class TpLedgerPage extends LitElement {
  @property({ attribute: false }) api!: Api;
  @property() tenant = '';
  @state() private status: LedgerStatus | undefined;
  @state() private error = '';
  /** Re-renders this element when the view's time zone changes. */
  protected readonly timeZone = new TimeZoneController(this);
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
        <dt>Last checkpoint</dt><dd data-checkpoint>${s.checkpoint ? html`tree size ${s.checkpoint.size.toLocaleString()}, signed ${timeText(s.checkpoint.issued_at)} <span class="muted">(key ${s.checkpoint.key_name}+${s.checkpoint.key_id})</span>` : 'none yet'}</dd>
        <dt>Not yet checkpointed</dt><dd>${s.checkpoint_lag.toLocaleString()} events</dd>
        <dt>Self-audit</dt><dd data-self-audit=${selfAuditState(s)}>${this.renderSelfAudit(s)}</dd>
        <dt>Witnesses</dt><dd>${s.witnesses.length ? s.witnesses.map((w) => html`<div><span class="mono">${w.witness}</span>: cosigned tree size ${w.checkpoint_size.toLocaleString()}, ${timeText(w.received_at)}</div>`) : 'none configured'}</dd>
      </dl>`
          : nothing
      }`;
  }

  /** The newest self-audit as a status: its verdict, when it ran, how much of the tree it covered. */
  private renderSelfAudit(s: LedgerStatus) {
    const audit = s.self_audit;
    if (!audit) return html`never run <span class="muted">(trailproof ledger audit)</span>`;
    const report = audit.report;
    const checked = typeof report?.size === 'number' ? report.size : undefined;
    const since =
      checked !== undefined && s.size > checked
        ? html` <span class="muted">${(s.size - checked).toLocaleString()} newer events not yet audited.</span>`
        : nothing;
    const covered = checked !== undefined ? `checked tree size ${checked.toLocaleString()}` : '';
    if (audit.ok === null || !audit.finished_at) return html`<span>running since ${timeText(audit.started_at)}</span>`;
    if (audit.ok) return html`<span class="ok">✓ clean</span> — ${covered}${covered ? ', ' : ''}finished ${timeText(audit.finished_at)}.${since}`;
    const first = report?.first;
    return html`<span class="bad">✗ problems found</span> — ${covered}${covered ? ', ' : ''}finished ${timeText(audit.finished_at)}.
      ${report?.findings ? html`<div>${report.findings.toLocaleString()} finding${report.findings === 1 ? '' : 's'}${first ? html`; first: <span class="mono">${first.kind}</span>${first.index !== null ? ` at leaf ${first.index.toLocaleString()}` : ''} — ${first.detail}` : nothing}</div>` : nothing}${since}`;
  }
}

function selfAuditState(s: LedgerStatus): string {
  if (!s.self_audit) return 'never';
  if (s.self_audit.ok === null || !s.self_audit.finished_at) return 'running';
  return s.self_audit.ok ? 'ok' : 'failed';
}
