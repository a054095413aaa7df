/**
 * The Users page: the people who sign into the console and their roles (docs/security.md#users-and-roles).
 * Owners, admins and admin keys add people, grant and take back roles, disable and enable users
 * and sign them out everywhere; auditors see the list. The server decides what each may grant:
 * a refusal shows its message.
 */
import { LitElement, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { Api, errorText } from '../api.ts';
import { TimeZoneController, timeText } from '../time-zone.ts';
import { operatorPage } from '../theme.ts';

const ROLES = ['owner', 'admin', 'analyst', 'auditor', 'viewer'] as const;

interface Grant {
  role: string;
  tenant: string | null;
  source?: 'manual' | 'oidc';
}
interface User {
  id: string;
  email: string;
  name: string | null;
  disabled: boolean;
  roles: Grant[];
  last_sign_in_at: string | null;
}

@customElement('tp-users-page')
export class TpUsersPage extends LitElement {
  @property({ attribute: false }) api!: Api;
  /** Tenants to offer when granting a role (besides every tenant). */
  @property({ attribute: false }) tenants: string[] = [];
  /** Whether the signed-in principal may change users (owners, admins, admin keys). */
  @property({ type: Boolean }) canManage = false;
  /** The signed-in person's own user id, if any. */
  @property() selfId = '';
  @state() private users: User[] = [];
  @state() private error = '';
  @state() private notice = '';
  protected readonly timeZone = new TimeZoneController(this);
  static override styles = operatorPage;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.users = (await this.api.get<{ data: User[] }>('/v1/users')).data;
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private async act(what: () => Promise<unknown>, notice = ''): Promise<void> {
    try {
      await what();
      this.error = '';
      this.notice = notice;
      await this.load();
    } catch (err) {
      this.error = errorText(err);
      this.notice = '';
    }
  }

  private create(e: Event): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const name = String(data.get('name') ?? '').trim();
    const tenant = String(data.get('tenant') ?? '');
    const body = { email: String(data.get('email')).trim(), ...(name ? { name } : {}), roles: [{ role: String(data.get('role')), tenant: tenant || null }] };
    void this.act(async () => {
      await this.api.post('/v1/users', body);
      form.reset();
    }, `Added ${body.email}.`);
  }

  /** The manual grants of a user: the ones this page changes (those from OIDC follow the provider). */
  private manual(user: User): Grant[] {
    return user.roles.filter((g) => g.source !== 'oidc').map((g) => ({ role: g.role, tenant: g.tenant }));
  }

  private grant(user: User, e: Event): void {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const tenant = String(data.get('tenant') ?? '');
    const roles = [...this.manual(user), { role: String(data.get('role')), tenant: tenant || null }];
    void this.act(() => this.api.put(`/v1/users/${encodeURIComponent(user.id)}/roles`, { roles }), `Granted to ${user.email}.`);
  }

  private revoke(user: User, grant: Grant): void {
    const roles = this.manual(user).filter((g) => !(g.role === grant.role && g.tenant === grant.tenant));
    void this.act(() => this.api.put(`/v1/users/${encodeURIComponent(user.id)}/roles`, { roles }), `Took ${grant.role} from ${user.email}.`);
  }

  private setDisabled(user: User, disabled: boolean): void {
    if (disabled && !confirm(`Disable ${user.email}? Every session of theirs ends at once.`)) return;
    void this.act(() => this.api.patch(`/v1/users/${encodeURIComponent(user.id)}`, { disabled }), `${disabled ? 'Disabled' : 'Enabled'} ${user.email}.`);
  }

  private signOutEverywhere(user: User): void {
    void this.act(() => this.api.delete(`/v1/users/${encodeURIComponent(user.id)}/sessions`), `Signed ${user.email} out everywhere.`);
  }

  override render() {
    const tenantOptions = html`<option value="">every tenant</option>${this.tenants.filter((t) => t !== '_system').map((t) => html`<option value=${t}>${t}</option>`)}`;
    const roleOptions = ROLES.map((r) => html`<option value=${r}>${r}</option>`);
    return html`<h2>Users</h2>
      ${
        this.canManage
          ? html`<form @submit=${this.create} aria-label="Add a user">
        <label>Email<input name="email" type="email" required maxlength="254" placeholder="dana@example.com"></label>
        <label>Name<input name="name" maxlength="256" placeholder="(optional)"></label>
        <label>Role<select name="role">${roleOptions}</select></label>
        <label>On<select name="tenant">${tenantOptions}</select></label>
        <button class="primary" type="submit">Add user</button>
      </form>`
          : nothing
      }
      ${this.notice ? html`<p role="status">${this.notice}</p>` : nothing}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <table><thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Roles</th><th scope="col">Last sign-in</th><th scope="col">Status</th></tr></thead>
        <tbody>${this.users.map(
          (u) => html`<tr data-user=${u.email}>
          <td>${u.email}${u.id === this.selfId ? html` <span class="muted">(you)</span>` : nothing}</td><td>${u.name ?? ''}</td>
          <td>${u.roles.map(
            (g) =>
              html`<span class="mono" data-grant=${`${g.role}@${g.tenant ?? '*'}`}>${g.role} on ${g.tenant ?? 'every tenant'}${g.source === 'oidc' ? ' (SSO)' : ''}</span>${
                this.canManage && g.source !== 'oidc'
                  ? html` <button type="button" aria-label=${`Take ${g.role} on ${g.tenant ?? 'every tenant'} from ${u.email}`} @click=${() => this.revoke(u, g)}>×</button>`
                  : nothing
              }<br>`,
          )}
            ${
              this.canManage
                ? html`<form class="inline" @submit=${(e: Event) => this.grant(u, e)} aria-label=${`Grant a role to ${u.email}`}>
              <select name="role" aria-label="Role">${roleOptions}</select><select name="tenant" aria-label="On">${tenantOptions}</select><button type="submit">Grant</button></form>`
                : nothing
            }</td>
          <td>${u.last_sign_in_at ? timeText(u.last_sign_in_at) : html`<span class="muted">never</span>`}</td>
          <td>${u.disabled ? html`<span class="muted">disabled</span>` : 'active'}
            ${
              this.canManage
                ? html`<button type="button" @click=${() => this.setDisabled(u, !u.disabled)}>${u.disabled ? 'Enable' : 'Disable'}</button>
              ${u.disabled ? nothing : html`<button type="button" @click=${() => this.signOutEverywhere(u)}>Sign out everywhere</button>`}`
                : nothing
            }</td>
        </tr>`,
        )}</tbody></table>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tp-users-page': TpUsersPage;
  }
}
