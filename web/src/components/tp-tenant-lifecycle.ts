/**
 * The lifecycle part of a tenant's page (docs/lifecycle.md): its retention policy, shown and set
 * (admin keys), and its legal holds with their releases; an admin releases a hold in force, giving
 * the reason the API records with it. Admins also see the tenant's latest lifecycle runs and start
 * one, followed with its progress until it ends.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { Api, errorText } from '../api.ts';
import { FieldErrors, fieldError } from '../field-errors.ts';
import { operatorPage } from '../theme.ts';
import { TimeZoneController, timeText } from '../time-zone.ts';

interface Retention {
  tenant: string;
  days: number;
  hot_days?: number;
  source: 'tenant' | 'default';
  default_days: number;
}

interface LegalHold {
  id: string;
  reason: string;
  filter: { actor?: string; target?: { type: string; id: string }; since?: string; until?: string };
  created_at: string;
  released_at: string | null;
  release_reason: string | null;
}

interface LifecycleRun {
  id: string;
  trigger: 'schedule' | 'api' | 'cli';
  status: 'running' | 'succeeded' | 'failed' | 'interrupted';
  started_at: string;
  finished_at: string | null;
  progress: { phase: 'archive' | 'removal'; range: [number, number]; done: number } | null;
  tenants: { removed: number }[];
  failed: { error: string }[];
}

@customElement('tp-tenant-lifecycle')
export class TpTenantLifecycle extends LitElement {
  @property({ attribute: false }) api!: Api;
  @property() tenant = '';
  @property({ type: Boolean }) admin = false;
  /** Re-renders this element when the view's time zone changes. */
  protected readonly timeZone = new TimeZoneController(this);
  @state() private retention: Retention | undefined;
  @state() private holds: LegalHold[] = [];
  @state() private errors = FieldErrors.none;
  @state() private error = '';
  @state() private saved = false;
  /** The hold whose release form is open, its errors, and any error not about the reason. */
  @state() private releasing: string | undefined;
  @state() private releaseErrors = FieldErrors.none;
  @state() private releaseError = '';
  @state() private runs: LifecycleRun[] = [];
  @state() private runError = '';

  static override styles = [
    operatorPage,
    css`
      section { margin-top: 20px; }
    `,
  ];

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('tenant') || changed.has('api')) void this.load();
  }

  private async load(): Promise<void> {
    if (!this.tenant) return;
    const tenant = encodeURIComponent(this.tenant);
    try {
      const [retention, holds] = await Promise.all([
        this.api.get<Retention>(`/v1/tenants/${tenant}/retention`),
        this.api.get<{ data: LegalHold[] }>('/v1/legal-holds', new URLSearchParams({ tenant: this.tenant })),
      ]);
      this.retention = retention;
      this.holds = holds.data;
      if (this.admin)
        this.runs = (await this.api.get<{ data: LifecycleRun[] }>('/v1/lifecycle/runs', new URLSearchParams({ tenant: this.tenant, limit: '5' }))).data;
      this.error = '';
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private async save(e: Event): Promise<void> {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const hot = String(data.get('hot_days') ?? '').trim();
    this.saved = false;
    try {
      this.retention = await this.api.put<Retention>(`/v1/tenants/${encodeURIComponent(this.tenant)}/retention`, {
        days: Number(data.get('days')),
        ...(hot ? { hot_days: Number(hot) } : {}),
      });
      this.errors = FieldErrors.none;
      this.error = '';
      this.saved = true;
    } catch (err) {
      this.errors = FieldErrors.of(err);
      this.error = this.errors.allPlaced(['/days', '/hot_days']) ? '' : errorText(err);
    }
  }

  private openRelease(hold: LegalHold): void {
    this.releasing = hold.id;
    this.releaseErrors = FieldErrors.none;
    this.releaseError = '';
  }

  /** Releases the hold with the reason typed; the API judges the reason (required, at most 1024 characters). */
  private async release(e: Event, hold: LegalHold): Promise<void> {
    e.preventDefault();
    const reason = String(new FormData(e.target as HTMLFormElement).get('reason') ?? '').trim();
    try {
      await this.api.delete(`/v1/legal-holds/${encodeURIComponent(hold.id)}`, { reason });
      this.releasing = undefined;
      await this.load();
    } catch (err) {
      this.releaseErrors = FieldErrors.of(err);
      this.releaseError = this.releaseErrors.allPlaced(['/reason']) ? '' : errorText(err);
    }
  }

  /** Starts a run of this tenant and follows it, the list showing its progress, until it ends. */
  private async startRun(): Promise<void> {
    this.runError = '';
    try {
      let run = await this.api.post<LifecycleRun>('/v1/lifecycle/run', { tenant: this.tenant });
      while (run.status === 'running') {
        this.runs = [run, ...this.runs.filter((r) => r.id !== run.id)].slice(0, 5);
        run = await this.api.get<LifecycleRun>(`/v1/lifecycle/runs/${encodeURIComponent(run.id)}`, new URLSearchParams({ wait: '5' }));
      }
      await this.load();
    } catch (err) {
      this.runError = errorText(err);
    }
  }

  override render() {
    const r = this.retention;
    const errors = this.errors;
    return html`<section aria-labelledby="retention-title">
        <h3 id="retention-title">Retention of ${this.tenant}</h3>
        ${
          r
            ? html`<p data-retention>Events are kept <strong>${r.days} days</strong> after they were received${
                r.hot_days === undefined ? '' : html`, <strong>${r.hot_days}</strong> of them in the database when archived`
              }; ${r.source === 'default' ? 'the service default' : html`set for this tenant <span class="muted">(service default ${r.default_days})</span>`}.</p>`
            : nothing
        }
        ${
          this.admin && r
            ? html`<form @submit=${this.save} aria-label="Set the retention policy">
            <div class="field"><label>Days kept<input name="days" type="number" inputmode="numeric" .value=${String(r.days)} aria-invalid=${errors.invalid('/days')} aria-describedby=${errors.describedBy('/days')}></label>${fieldError(errors, '/days')}</div>
            <div class="field"><label>Days in the database (archived after)<input name="hot_days" type="number" inputmode="numeric" placeholder="all" .value=${r.hot_days === undefined ? '' : String(r.hot_days)} aria-invalid=${errors.invalid('/hot_days')} aria-describedby=${errors.describedBy('/hot_days')}></label>${fieldError(errors, '/hot_days')}</div>
            <button class="primary" type="submit">Save retention</button>
            ${this.saved ? html`<span role="status">Saved; recorded in the trail.</span>` : nothing}
          </form>`
            : nothing
        }
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      </section>
      <section aria-labelledby="holds-title">
        <h3 id="holds-title">Legal holds</h3>
        ${
          this.holds.length === 0
            ? html`<p class="muted">No legal holds: expired events are purged by policy.</p>`
            : html`<table aria-labelledby="holds-title"><thead><tr><th scope="col">Reason</th><th scope="col">Covers</th><th scope="col">Placed</th><th scope="col">Status</th></tr></thead>
          <tbody>${this.holds.map(
            (h) => html`<tr data-hold=${h.id}><td>${h.reason}</td><td>${describeFilter(h.filter)}</td><td>${timeText(h.created_at)}</td>
            <td>${h.released_at ? html`<span class="muted">released ${timeText(h.released_at)}: ${h.release_reason}</span>` : html`<span class="ok">in force</span>${this.admin ? this.renderRelease(h) : nothing}`}</td></tr>`,
          )}</tbody></table>`
        }
      </section>
      ${this.admin ? this.renderRuns() : nothing}`;
  }

  private renderRuns() {
    const running = this.runs.some((r) => r.status === 'running');
    return html`<section aria-labelledby="runs-title">
      <h3 id="runs-title">Lifecycle runs</h3>
      <p class="muted">A run archives, then purges, what has expired under the policy; it also runs on the service's schedule.</p>
      <button type="button" @click=${this.startRun} ?disabled=${running}>Run now</button>
      ${this.runError ? html`<p class="error" role="alert">${this.runError}</p>` : nothing}
      ${
        this.runs.length === 0
          ? html`<p class="muted">No runs of this tenant yet.</p>`
          : html`<table aria-labelledby="runs-title"><thead><tr><th scope="col">Started</th><th scope="col">By</th><th scope="col">Status</th><th scope="col">Purged</th></tr></thead>
        <tbody>${this.runs.map(
          (r) => html`<tr data-run=${r.id}><td>${timeText(r.started_at)}</td><td>${r.trigger}</td><td data-status>${runStatus(r)}</td>
          <td>${r.status === 'running' ? nothing : r.tenants.reduce((n, t) => n + t.removed, 0).toLocaleString('en')}</td></tr>`,
        )}</tbody></table>`
      }
    </section>`;
  }

  /** The release button of a hold in force, or its form (reason, with the API's message beside it). */
  private renderRelease(hold: LegalHold) {
    if (this.releasing !== hold.id) {
      return html` <button type="button" @click=${() => this.openRelease(hold)} aria-label=${`Release hold: ${hold.reason}`}>Release</button>`;
    }
    const errors = this.releaseErrors;
    return html`<form novalidate @submit=${(e: Event) => this.release(e, hold)} aria-label=${`Release hold: ${hold.reason}`}>
      <div class="field"><label>Reason for the release (required)<input name="reason" aria-required="true" maxlength="1024" placeholder="case closed"
        aria-invalid=${errors.invalid('/reason')} aria-describedby=${errors.describedBy('/reason')}></label>${fieldError(errors, '/reason')}</div>
      <button class="primary" type="submit">Release hold</button>
      <button type="button" @click=${() => (this.releasing = undefined)}>Cancel</button>
      ${this.releaseError ? html`<p class="error" role="alert">${this.releaseError}</p>` : nothing}
    </form>`;
  }
}

/** A run's status; while it runs, its phase and how far through the range it is. */
function runStatus(run: LifecycleRun): string {
  if (run.status === 'failed') return `failed: ${run.failed.map((f) => f.error).join('; ')}`;
  if (run.status !== 'running') return run.status;
  const at = run.progress;
  return at ? `running: ${at.phase} ${at.done.toLocaleString('en')} of ${(at.range[1] - at.range[0]).toLocaleString('en')}` : 'running';
}

function describeFilter(f: LegalHold['filter']): string {
  const parts = [
    ...(f.actor ? [`actor ${f.actor}`] : []),
    ...(f.target ? [`target ${f.target.type}:${f.target.id}`] : []),
    ...(f.since ? [`since ${f.since}`] : []),
    ...(f.until ? [`until ${f.until}`] : []),
  ];
  return parts.length ? parts.join(', ') : 'every event';
}
