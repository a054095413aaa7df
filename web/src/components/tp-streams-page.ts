/**
 * The console's Streams page (admin keys): the tenant's SIEM destinations with their state, lag,
 * last success and last error, refreshed every 5 s while the page is visible; create one (secrets
 * are write-only: typed into password fields, never shown back), pause, resume, replay from a
 * time, delete. Every action is a call to /v1/streams (docs/streams.md), which audits it.
 */
import type { StreamStatus } from '../../../src/stream/stream-status.ts';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { keyed } from 'lit/directives/keyed.js';
import { repeat } from 'lit/directives/repeat.js';
import { Api, errorText } from '../api.ts';
import { FieldErrors, fieldError } from '../field-errors.ts';
import { inputToIso, TimeZoneController, timeText, zoneName } from '../time-zone.ts';
import { STREAM_KINDS, configFrom, type ConfigField, type StreamKind } from '../stream-kinds.ts';
import { operatorPage } from '../theme.ts';
import { VisibleRefresh } from '../refresh.ts';

const REFRESH_MS = 5000;

interface Stream {
  id: string;
  name: string;
  kind: string;
  format: string;
  filter: { actions?: string[]; outcome?: 'success' | 'failure' };
  config: Record<string, unknown>;
  has_secret: boolean;
  status: 'active' | 'paused';
  paused_reason: string | null;
  last_success_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
}

@customElement('tp-streams-page')
export class TpStreamsPage extends LitElement {
  @property({ attribute: false }) api!: Api;
  /** The tenant, for a key bound to no tenant; '' for a bound key (the server uses its tenant). */
  @property() tenant = '';
  /** Re-renders this element when the view's time zone changes. */
  protected readonly timeZone = new TimeZoneController(this);
  @state() private streams: Stream[] = [];
  @state() private statuses = new Map<string, StreamStatus>();
  @state() private loaded = false;
  @state() private error = '';
  @state() private kind: StreamKind = STREAM_KINDS[0]!;
  @state() private formErrors = FieldErrors.none;
  @state() private formError = '';
  @state() private creating = false;
  /** The last action's failure on one destination, shown in its card. */
  @state() private rowErrors = new Map<string, string>();
  /** The status refreshes every REFRESH_MS while the tab is visible. */
  protected readonly refresh = new VisibleRefresh(this, () => this.load(), REFRESH_MS);
  private generation = 0;

  static override styles = [
    operatorPage,
    css`
    .streams { list-style: none; padding: 0; margin: 12px 0; display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(min(100%, 420px), 1fr)); }
    .stream { border: 1px solid var(--_border); border-radius: var(--_radius); padding: 12px; background: var(--_surface); min-width: 0; }
    .stream[data-state='paused'] { border-color: var(--_bad); }
    .stream h3 { margin: 0; font-size: 15px; overflow-wrap: anywhere; }
    .head { display: flex; align-items: center; justify-content: space-between; gap: 8px; margin-bottom: 8px; }
    .state { font-size: 12px; font-weight: 600; padding: 2px 8px; border-radius: 999px; white-space: nowrap; }
    .state.active { color: var(--_ok); background: var(--_ok-bg); }
    .state.paused { color: var(--_bad); background: var(--_bad-bg); }
    .stream dl { grid-template-columns: minmax(90px, auto) 1fr; margin: 0 0 8px; }
    .stream .error { margin: 0 0 8px; overflow-wrap: anywhere; }
    .actions { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-end; }
    .actions form { gap: 6px; }
    section.create { margin-top: 20px; }
    section.create form { display: grid; gap: 8px; }
    fieldset { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: flex-start; border: 1px solid var(--_border); border-radius: var(--_radius); padding: 8px 12px 12px; margin: 0; min-width: 0; }
    legend { font-weight: 600; padding: 0 4px; }
    .field { display: flex; flex-direction: column; gap: 2px; min-width: 0; }
    .field.wide { flex: 1 1 320px; }
    .field.wide input, textarea { width: 100%; }
    textarea { min-height: 64px; font-family: var(--_mono); font-size: 12px; }
    label.check { flex-direction: row; align-items: center; gap: 6px; min-height: 32px; margin-top: 16px; }
    label.check input { min-height: 0; }
    [aria-invalid='true'] { border-color: var(--_bad); }
    .submit { display: flex; gap: 8px; align-items: center; }
  `,
  ];

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('tenant') || changed.has('api')) {
      this.streams = [];
      this.statuses = new Map();
      this.loaded = false;
      void this.load();
    }
  }

  /** Fetches the list and every status, then swaps them in at once: one render, no flicker. */
  private async load(): Promise<void> {
    const generation = ++this.generation;
    try {
      const { data } = await this.api.get<{ data: Stream[] }>('/v1/streams', new URLSearchParams(this.tenant ? { tenant: this.tenant } : {}));
      const statuses = await Promise.all(data.map((s) => this.api.get<StreamStatus>(`/v1/streams/${encodeURIComponent(s.id)}/status`).catch(() => undefined)));
      if (generation !== this.generation) return;
      this.streams = data;
      this.statuses = new Map(statuses.filter((s): s is StreamStatus => s !== undefined).map((s) => [s.id, s]));
      this.loaded = true;
      this.error = '';
    } catch (err) {
      if (generation === this.generation) this.error = errorText(err);
    }
  }

  /** Runs one action on a destination, then reloads; a failure is shown in the destination's card. */
  private async act(stream: Stream, action: () => Promise<unknown>): Promise<void> {
    const errors = new Map(this.rowErrors);
    errors.delete(stream.id);
    try {
      await action();
      this.rowErrors = errors;
    } catch (err) {
      this.rowErrors = errors.set(stream.id, errorText(err));
    }
    await this.load();
  }

  private pause(s: Stream) {
    return this.act(s, () => this.api.patch(`/v1/streams/${encodeURIComponent(s.id)}`, { status: 'paused' }));
  }

  private resume(s: Stream) {
    return this.act(s, () => this.api.post(`/v1/streams/${encodeURIComponent(s.id)}/resume`));
  }

  private replay(s: Stream, e: Event) {
    e.preventDefault();
    const value = String(new FormData(e.target as HTMLFormElement).get('since') ?? '');
    return this.act(s, () => this.api.post(`/v1/streams/${encodeURIComponent(s.id)}/replay`, { since: inputToIso(value) }));
  }

  private deleteStream(s: Stream) {
    if (!confirm(`Delete stream "${s.name}"? Delivery to it stops at once; its cursor is lost.`)) return;
    return this.act(s, () => this.api.delete(`/v1/streams/${encodeURIComponent(s.id)}`));
  }

  private async create(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    const actions = text('actions')
      .split(/[\s,]+/)
      .filter(Boolean);
    const outcome = text('outcome');
    const secret = String(data.get('secret') ?? '');
    const since = inputToIso(text('since'));
    const body = {
      ...(this.tenant ? { tenant: this.tenant } : {}),
      name: text('name'),
      kind: this.kind.kind,
      format: text('format'),
      config: configFrom(this.kind, (name) =>
        this.kind.config.find((f) => f.name === name)?.type === 'flag' ? data.get(`config.${name}`) === 'on' : String(data.get(`config.${name}`) ?? ''),
      ),
      ...(actions.length || outcome ? { filter: { ...(actions.length ? { actions } : {}), ...(outcome ? { outcome } : {}) } } : {}),
      ...(secret ? { secret } : {}),
      ...(since ? { since } : {}),
    };
    this.creating = true;
    try {
      await this.api.post('/v1/streams', body);
      form.reset();
      this.formErrors = FieldErrors.none;
      this.formError = '';
      await this.load();
    } catch (err) {
      this.formErrors = FieldErrors.of(err);
      this.formError = this.formErrors.allPlaced(this.pointers()) ? 'Correct the fields marked below.' : errorText(err);
    } finally {
      this.creating = false;
    }
  }

  /** The pointers of the create form's controls, where field errors can be shown. */
  private pointers(): string[] {
    return ['/name', '/kind', '/format', '/secret', '/filter/actions', '/filter/outcome', '/since', ...this.kind.config.map((f) => `/config/${f.name}`)];
  }

  override render() {
    return html`<h2>Streams</h2>
      <p class="muted">Destinations that receive ${this.tenant ? html`<strong>${this.tenant}</strong>'s` : "this tenant's"} events as they commit, in order, at least once. Status refreshes every ${REFRESH_MS / 1000} s.</p>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${this.loaded && this.streams.length === 0 ? html`<p data-empty>No streams yet: create one below.</p>` : nothing}
      <ul class="streams" aria-label="Stream destinations">${repeat(
        this.streams,
        (s) => s.id,
        (s) => this.renderStream(s),
      )}</ul>
      ${this.renderCreate()}`;
  }

  private renderStream(s: Stream) {
    const st = this.statuses.get(s.id);
    const state = st?.status ?? s.status;
    const lastSuccess = st ? st.last_success_at : s.last_success_at;
    const lastError = st ? st.last_error : s.last_error;
    const lastErrorAt = st ? st.last_error_at : s.last_error_at;
    const pausedReason = st ? st.paused_reason : s.paused_reason;
    const rowError = this.rowErrors.get(s.id);
    const replayId = `replay-${s.id}`;
    return html`<li class="stream" data-stream=${s.id} data-state=${state} aria-labelledby=${`name-${s.id}`}>
      <div class="head"><h3 id=${`name-${s.id}`}>${s.name}</h3><span class="state ${state}" data-state-badge>${state === 'paused' ? '■ paused' : '● active'}</span></div>
      ${state === 'paused' ? html`<p class="error" data-paused>Paused: ${pausedReason ?? 'no reason given'}${lastError ? html`<br>Last error${lastErrorAt ? ` (${timeText(lastErrorAt)})` : ''}: <span class="mono">${lastError}</span>` : nothing}</p>` : nothing}
      <dl>
        <dt>Kind · format</dt><dd>${s.kind} · ${s.format}${s.has_secret ? html` <span class="muted">(secret set)</span>` : nothing}</dd>
        <dt>Sends to</dt><dd class="mono">${destinationOf(s)}</dd>
        <dt>Filter</dt><dd>${filterText(s.filter)}</dd>
        <dt>Lag</dt><dd data-lag=${st ? st.lag_events : ''}>${st ? `${st.lag_events.toLocaleString()} events · ${st.lag_seconds.toFixed(1)} s` : '…'}</dd>
        <dt>Last success</dt><dd data-last-success=${lastSuccess ?? ''}>${lastSuccess ? timeText(lastSuccess) : 'never'}</dd>
        ${state === 'active' ? html`<dt>Last error</dt><dd class=${lastError ? 'bad' : ''}>${lastError ? html`<span class="mono">${lastError}</span>${lastErrorAt ? html` <span class="muted">(${timeText(lastErrorAt)}${st?.attempts ? `, ${st.attempts} failed in a row` : ''})</span>` : nothing}` : 'none'}</dd>` : nothing}
      </dl>
      ${rowError ? html`<p class="error" role="alert">${rowError}</p>` : nothing}
      <div class="actions">
        ${
          state === 'active'
            ? html`<button type="button" @click=${() => this.pause(s)} aria-label=${`Pause stream ${s.name}`}>Pause</button>`
            : html`<button type="button" class="primary" @click=${() => this.resume(s)} aria-label=${`Resume stream ${s.name}`}>Resume</button>`
        }
        <form @submit=${(e: Event) => this.replay(s, e)} aria-label=${`Replay stream ${s.name}`}>
          <label for=${replayId}>Replay from (${zoneName()})<input id=${replayId} name="since" type="datetime-local" step="1" required></label>
          <button type="submit" aria-label=${`Replay stream ${s.name} from that time`}>Replay</button>
        </form>
        <button type="button" @click=${() => this.deleteStream(s)} aria-label=${`Delete stream ${s.name}`}>Delete</button>
      </div>
    </li>`;
  }

  private renderCreate() {
    const errors = this.formErrors;
    const kind = this.kind;
    return html`<section class="create" aria-labelledby="create-title">
      <h3 id="create-title">New destination</h3>
      <form @submit=${this.create} aria-labelledby="create-title">
        <fieldset><legend>Destination</legend>
          ${this.field('/name', 'Name', html`<input id="f-name" name="name" required maxlength="100" placeholder="siem" autocomplete="off" aria-invalid=${errors.invalid('/name')} aria-describedby=${errors.describedBy('/name')}>`)}
          ${this.field(
            '/kind',
            'Kind',
            html`<select id="f-kind" name="kind" @change=${this.pickKind} aria-describedby=${errors.describedBy('/kind')}>
            ${STREAM_KINDS.map((k) => html`<option value=${k.kind} ?selected=${k === kind}>${k.label}</option>`)}</select>`,
          )}
          ${keyed(kind.kind, this.field('/format', 'Format', html`<select id="f-format" name="format" aria-describedby=${errors.describedBy('/format')}>${kind.formats.map((f) => html`<option value=${f}>${f}</option>`)}</select>`))}
        </fieldset>
        ${keyed(
          kind.kind,
          html`<fieldset><legend>Settings</legend>
          ${kind.config.map((f) => this.configField(f))}
          ${kind.secret ? this.field('/secret', kind.secret, html`<input id="f-secret" name="secret" type="password" required autocomplete="new-password" aria-invalid=${errors.invalid('/secret')} aria-describedby=${errors.describedBy('/secret')}>`) : nothing}
        </fieldset>`,
        )}
        <fieldset><legend>Filter (empty: every event)</legend>
          ${this.field('/filter/actions', 'Actions or prefixes (comma-separated)', html`<input id="f-actions" name="actions" placeholder="user.*, document.exported" autocomplete="off" aria-invalid=${errors.invalid('/filter/actions')} aria-describedby=${errors.describedBy('/filter/actions')}>`, true)}
          ${this.field('/filter/outcome', 'Outcome', html`<select id="f-outcome" name="outcome" aria-describedby=${errors.describedBy('/filter/outcome')}><option value="">any</option><option value="success">success</option><option value="failure">failure</option></select>`)}
          ${this.field('/since', `Start with events since (${zoneName()}; empty: new events only)`, html`<input id="f-since" name="since" type="datetime-local" step="1" aria-invalid=${errors.invalid('/since')} aria-describedby=${errors.describedBy('/since')}>`)}
        </fieldset>
        ${this.formError ? html`<p class="error" role="alert" data-form-error>${this.formError}</p>` : nothing}
        <div class="submit"><button class="primary" type="submit" ?disabled=${this.creating}>${this.creating ? 'Creating…' : 'Create stream'}</button></div>
      </form>
    </section>`;
  }

  private configField(f: ConfigField) {
    const pointer = `/config/${f.name}`;
    const id = `f-config-${f.name}`;
    if (f.type === 'flag') {
      return html`<div class="field"><label class="check" for=${id}><input id=${id} name=${`config.${f.name}`} type="checkbox" aria-invalid=${this.formErrors.invalid(pointer)} aria-describedby=${this.formErrors.describedBy(pointer)}>${f.label}</label>${fieldError(this.formErrors, pointer)}</div>`;
    }
    const control =
      f.type === 'pem'
        ? html`<textarea id=${id} name=${`config.${f.name}`} placeholder=${f.placeholder ?? ''} spellcheck="false" aria-invalid=${this.formErrors.invalid(pointer)} aria-describedby=${this.formErrors.describedBy(pointer)}></textarea>`
        : html`<input id=${id} name=${`config.${f.name}`} type=${f.type === 'url' ? 'url' : 'text'} inputmode=${f.type === 'port' ? 'numeric' : f.type === 'url' ? 'url' : 'text'}
          ?required=${f.required === true} placeholder=${f.placeholder ?? ''} autocomplete="off" aria-invalid=${this.formErrors.invalid(pointer)} aria-describedby=${this.formErrors.describedBy(pointer)}>`;
    return this.field(pointer, f.label, control, f.type === 'url' || f.type === 'pem');
  }

  /** A labelled control with the API's message about its pointer beneath it. */
  private field(pointer: string, label: string, control: unknown, wide = false) {
    return html`<div class="field ${wide ? 'wide' : ''}"><label>${label}${control}</label>${fieldError(this.formErrors, pointer)}</div>`;
  }

  private pickKind(e: Event): void {
    this.kind = STREAM_KINDS.find((k) => k.kind === (e.target as HTMLSelectElement).value) ?? STREAM_KINDS[0]!;
    this.formErrors = FieldErrors.none;
    this.formError = '';
  }
}

/** Where a destination sends, from its (secret-free) config: URL, host:port or bucket. */
function destinationOf(s: Stream): string {
  const c = s.config;
  if (typeof c.url === 'string') return c.url;
  if (typeof c.host === 'string') return `${c.tls ? 'tls' : 'tcp'}://${c.host}:${String(c.port)}`;
  if (typeof c.bucket === 'string') return `s3://${c.bucket}/${typeof c.prefix === 'string' ? c.prefix : ''}`;
  return s.kind === 'datadog' ? 'Datadog US1 intake' : '—';
}

function filterText(filter: Stream['filter']): string {
  const parts = [filter.actions?.length ? filter.actions.join(', ') : 'every action', filter.outcome ? `outcome ${filter.outcome}` : ''];
  return parts.filter(Boolean).join('; ');
}

declare global {
  interface HTMLElementTagNameMap {
    'tp-streams-page': TpStreamsPage;
  }
}
