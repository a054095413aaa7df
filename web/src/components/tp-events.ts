/**
 * The events view shared by the console and the embedded viewer: filter bar, activity histogram,
 * virtualised table with cursor paging, event drawer with in-browser proof verification, "verify
 * this view", and streamed export. The console mirrors the filters into the page URL
 * (`sync-url`); the embedded viewer keeps them to itself.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { Api, errorText, publishedKeys, type EventPage, type Histogram, type StoredEvent } from '../api.ts';
import { saveBlob } from '../download.ts';
import {
  apiQuery,
  emptyFilters,
  filtersFromUrl,
  filtersToUrl,
  RELATIVE_TIME,
  timeWindow,
  widenedTo,
  type Filters,
  type LogKind,
  type RangePreset,
} from '../filter-state.ts';
import { inputToIso, isoToInput, TimeZoneController, timeText, zoneName } from '../time-zone.ts';
import { controls } from '../theme.ts';
import { verifyProof, type ProofResponse, type VerifyResult } from '../verify/proof.ts';
import './tp-event-drawer.ts';
import './tp-event-table.ts';
import type { TpEventTable } from './tp-event-table.ts';
import './tp-histogram.ts';

const PAGE = 200;
const VERIFY_VIEW_MAX = 500;
const EXPORT_LABELS: Record<string, string> = { csv: 'CSV', jsonl: 'JSON Lines', bundle: 'Verifiable bundle' };
const KIND_LABELS: Record<LogKind, string> = { activity: 'activity', access: 'access log (reads, exports)', all: 'activity and access log' };
const RELATIVE_PATTERN = RELATIVE_TIME.source.slice(1, -1);

@customElement('tp-events')
export class TpEvents extends LitElement {
  @property({ attribute: false }) api!: Api;
  /** Named on every request (keys bound to no tenant); empty for bound keys and viewer tokens. */
  @property() tenant = '';
  /** The tenant whose verifier key checks proofs (the bound tenant when `tenant` is empty). */
  @property() ledgerTenant = '';
  @property({ type: Boolean, attribute: 'sync-url' }) syncUrl = false;
  @property({ attribute: false }) exportFormats: string[] = ['csv', 'jsonl', 'bundle'];
  /** Pinned verifier keys; when empty, the published ones (GET /v1/ledger/key) are used. */
  @property({ attribute: false }) verifierKeys: string[] = [];

  /** Re-renders this element when the view's time zone changes. */
  protected readonly timeZone = new TimeZoneController(this);
  @state() private filters: Filters = emptyFilters();
  @state() private rows: StoredEvent[] = [];
  @state() private cursor: string | null = null;
  @state() private loading = false;
  @state() private error = '';
  @state() private histogram: Histogram | undefined;
  @state() private open: StoredEvent | undefined;
  @state() private verification: VerifyResult | undefined;
  @state() private marks = new Map<string, true | string>();
  @state() private viewStatus = '';
  @state() private exportStatus = '';
  @query('tp-event-table') private table!: TpEventTable;
  private window = timeWindow(emptyFilters());
  private generation = 0;
  private keys: Promise<string[]> | undefined;
  /** When the first page of the current filter arrived (the benchmark reads it). */
  lastPageAt = 0;

  static override styles = [
    controls,
    css`
    :host { display: flex; flex-direction: column; gap: 10px; min-height: 0; height: 100%; background: transparent; }
    form { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-end; }
    form label { flex: 1 1 120px; min-width: 100px; }
    form label.q { flex: 2 1 200px; }
    .actions { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
    .actions .spacer { flex: 1; }
    .status { font-size: 12px; color: var(--_muted); }
    .status.bad { color: var(--_bad); }
    .status.ok { color: var(--_ok); }
    .hint { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 8px 10px; border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_surface); }
    tp-event-table { flex: 1; min-height: 240px; }
    @media (max-width: 720px) { :host { height: auto; } tp-event-table { flex: none; height: 75vh; } form label { flex-basis: 40%; } }
  `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.syncUrl) {
      this.filters = filtersFromUrl(location.search);
      window.addEventListener('popstate', this.onPopState);
    }
    this.addEventListener('related', this.onRelated as EventListener);
    this.apply(false);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('popstate', this.onPopState);
  }

  private onPopState = () => {
    this.filters = filtersFromUrl(location.search);
    this.apply(false);
  };

  private onRelated = (e: CustomEvent<Record<string, string>>) => {
    this.open = undefined;
    // A related view looks at the activity and the access log alike: the actor may be a reader.
    this.filters = { ...emptyFilters(), kind: 'all', ...(e.detail as Partial<Filters>) } as Filters;
    this.apply(true);
  };

  /** Runs the current filters: first page, histogram, URL. */
  apply(pushUrl = true): void {
    this.window = timeWindow(this.filters);
    if (this.syncUrl && pushUrl) {
      const url = `${location.pathname}?${filtersToUrl(this.filters, new URLSearchParams(location.search))}`;
      history.pushState(null, '', url);
    }
    const generation = ++this.generation;
    this.rows = [];
    this.cursor = null;
    this.error = '';
    this.marks = new Map();
    this.viewStatus = '';
    this.histogram = undefined;
    this.table?.reset();
    void this.loadPage(generation);
    void this.loadHistogram(generation);
  }

  private query(): URLSearchParams {
    return apiQuery(this.filters, this.window, this.tenant || undefined);
  }

  private async loadPage(generation = this.generation): Promise<void> {
    if (this.loading && generation === this.generation && this.rows.length > 0) return;
    this.loading = true;
    try {
      const params = this.query();
      params.set('limit', String(PAGE));
      if (this.cursor) params.set('cursor', this.cursor);
      const page = await this.api.get<EventPage>('/v1/events', params);
      if (generation !== this.generation) return;
      if (this.rows.length === 0) this.lastPageAt = performance.now();
      this.rows = [...this.rows, ...page.data];
      this.cursor = page.next_cursor;
    } catch (err) {
      if (generation === this.generation) this.error = errorText(err);
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }

  private async loadHistogram(generation: number): Promise<void> {
    try {
      const params = this.query();
      params.set('buckets', String(this.clientWidth > 900 ? 120 : 48));
      const histogram = await this.api.get<Histogram>('/v1/events/histogram', params);
      if (generation === this.generation) this.histogram = histogram;
    } catch (err) {
      if (generation === this.generation && !this.error) this.error = errorText(err);
    }
  }

  private verifierKeyList(): Promise<string[]> {
    if (this.verifierKeys.length) return Promise.resolve(this.verifierKeys);
    const tenant = this.ledgerTenant || this.tenant;
    return (this.keys ??= publishedKeys(this.api, tenant));
  }

  private async verifyOne(event: StoredEvent): Promise<VerifyResult> {
    try {
      const [proof, keys] = await Promise.all([this.api.get<ProofResponse>(`/v1/events/${event.uid}/proof`), this.verifierKeyList()]);
      return await verifyProof(proof, keys, event);
    } catch (err) {
      return { ok: false, step: 'proof', message: `could not fetch the proof: ${errorText(err)}` };
    }
  }

  private async openEvent(e: CustomEvent<{ event: StoredEvent }>): Promise<void> {
    const { event } = e.detail;
    this.open = event;
    this.verification = undefined;
    const result = await this.verifyOne(event);
    if (this.open?.uid !== event.uid) return;
    this.verification = result;
    this.marks = new Map(this.marks).set(event.uid, result.ok ? true : `${result.step}: ${result.message}`);
  }

  private async verifyView(): Promise<void> {
    const rows = this.rows.slice(0, VERIFY_VIEW_MAX);
    const generation = this.generation;
    let done = 0;
    let failed = 0;
    let checkpoint = 0;
    const marks = new Map(this.marks);
    const queue = [...rows];
    const worker = async () => {
      for (let event = queue.shift(); event; event = queue.shift()) {
        const result = await this.verifyOne(event);
        if (generation !== this.generation) return;
        done++;
        if (result.ok) checkpoint = Math.max(checkpoint, result.checkpointSize);
        else failed++;
        marks.set(event.uid, result.ok ? true : `${result.step}: ${result.message}`);
        if (done % 10 === 0 || done === rows.length) {
          this.marks = new Map(marks);
          this.viewStatus = `Verifying… ${done}/${rows.length}`;
        }
      }
    };
    this.viewStatus = `Verifying… 0/${rows.length}`;
    await Promise.all(Array.from({ length: 6 }, worker));
    if (generation !== this.generation) return;
    this.viewStatus =
      failed === 0
        ? `✓ All ${done} loaded events verified${checkpoint ? ` (against the checkpoint of tree size ${checkpoint.toLocaleString()})` : ''}`
        : `✗ ${failed} of ${done} loaded events failed verification`;
  }

  private async exportAs(format: string): Promise<void> {
    const params = this.query();
    params.set('format', format);
    this.exportStatus = `Exporting ${EXPORT_LABELS[format] ?? format}…`;
    try {
      const blob = await this.api.download('/v1/exports', params, (bytes, lines) => {
        this.exportStatus = `Exporting ${EXPORT_LABELS[format] ?? format}… ${format === 'bundle' ? `${(bytes / 1024).toFixed(0)} KiB` : `${(format === 'csv' ? Math.max(0, lines - 1) : lines).toLocaleString()} events`}`;
      });
      saveBlob(blob, `trailproof-${this.ledgerTenant || this.tenant || 'events'}.${format === 'bundle' ? 'bundle' : format}`);
      this.exportStatus = `Exported ${(blob.size / 1024).toFixed(1)} KiB`;
    } catch (err) {
      this.exportStatus = `Export failed: ${errorText(err)}`;
    }
  }

  private onSubmit(e: Event): void {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const get = (k: string) => String(data.get(k) ?? '').trim();
    const range = get('range') as RangePreset;
    const relativeSince = get('since_relative');
    const relativeUntil = get('until_relative');
    const f: Filters = {
      actor: get('actor'),
      action: get('action'),
      exclude_action: get('exclude_action'),
      target_type: get('target_type'),
      target_id: get('target_id'),
      outcome: get('outcome') as Filters['outcome'],
      has_changes: get('has_changes') as Filters['has_changes'],
      ip: get('ip'),
      q: get('q'),
      kind: (get('kind') || 'activity') as LogKind,
      range,
      since: '',
      until: '',
    };
    if (range === 'custom') {
      f.since = inputToIso(get('since')) || this.window.since;
      f.until = inputToIso(get('until')) || this.window.until;
    } else if (range === 'relative') {
      f.since = RELATIVE_TIME.test(relativeSince) ? relativeSince : this.filters.range === 'relative' ? this.filters.since : '-24h';
      f.until = RELATIVE_TIME.test(relativeUntil) ? relativeUntil : '';
    }
    this.filters = f;
    this.apply();
  }

  private onChange(e: Event): void {
    // Selects apply at once; text fields apply on Enter or Apply.
    if ((e.target as HTMLElement).tagName === 'SELECT') (e.currentTarget as HTMLFormElement).requestSubmit();
  }

  private onZoom(e: CustomEvent<{ since: string; until: string }>): void {
    this.filters = { ...this.filters, range: 'custom', since: e.detail.since, until: e.detail.until };
    this.apply();
  }

  /** Widens the time range to the newest event the filters select (the empty result's hint). */
  private widen(newest: string): void {
    this.filters = widenedTo(this.filters, this.window, newest);
    this.apply();
  }

  private renderEmptyHint() {
    const h = this.histogram;
    if (!h || h.total > 0 || h.newest === undefined || this.loading || this.rows.length > 0) return nothing;
    if (h.newest === null) return html`<div class="hint" role="status" data-empty-hint>No event matches these filters at any time.</div>`;
    return html`<div class="hint" role="status" data-empty-hint data-newest=${h.newest}>
      No events in this time range. The newest that matches is from <strong>${timeText(h.newest)}</strong>.
      <button type="button" @click=${() => this.widen(h.newest!)}>Widen the range to include it</button>
    </div>`;
  }

  override render() {
    const f = this.filters;
    return html`
      <form @submit=${this.onSubmit} @change=${this.onChange} role="search" aria-label="Filter events">
        <label>Actor<input name="actor" .value=${f.actor} placeholder="user id" autocomplete="off"></label>
        <label>Action<input name="action" .value=${f.action} placeholder="user.login, user.*, *.updated" autocomplete="off"></label>
        <label>Exclude actions<input name="exclude_action" .value=${f.exclude_action} placeholder="api.called, *.read" autocomplete="off"></label>
        <label>Target type<input name="target_type" .value=${f.target_type} placeholder="document" autocomplete="off"></label>
        <label>Target id<input name="target_id" .value=${f.target_id} autocomplete="off"></label>
        <label>Outcome<select name="outcome" .value=${f.outcome}>
          <option value="" ?selected=${f.outcome === ''}>any</option><option value="success" ?selected=${f.outcome === 'success'}>success</option><option value="failure" ?selected=${f.outcome === 'failure'}>failure</option>
        </select></label>
        <label>Changes<select name="has_changes" .value=${f.has_changes}>
          <option value="" ?selected=${f.has_changes === ''}>any</option><option value="true" ?selected=${f.has_changes === 'true'}>with changes</option><option value="false" ?selected=${f.has_changes === 'false'}>without changes</option>
        </select></label>
        <label>IP<input name="ip" .value=${f.ip} placeholder="10.0.0.0/8" autocomplete="off"></label>
        <label>Log<select name="kind" .value=${f.kind}>
          ${(['activity', 'access', 'all'] as const).map((k) => html`<option value=${k} ?selected=${f.kind === k}>${KIND_LABELS[k]}</option>`)}
        </select></label>
        <label>Time range<select name="range" .value=${f.range}>
          ${(['1h', '24h', '7d', '30d', 'relative', 'custom'] as const).map(
            (r) => html`<option value=${r} ?selected=${f.range === r}>${r === 'custom' ? 'custom…' : r === 'relative' ? 'relative…' : `last ${r}`}</option>`,
          )}
        </select></label>
        ${
          f.range === 'custom'
            ? html`
          <label>From (${zoneName()})<input type="datetime-local" name="since" .value=${isoToInput(f.since || this.window.since)}></label>
          <label>To (${zoneName()})<input type="datetime-local" name="until" .value=${isoToInput(f.until || this.window.until)}></label>`
            : f.range === 'relative'
              ? html`
          <label>Since<input name="since_relative" .value=${f.since} pattern=${RELATIVE_PATTERN} placeholder="-7d" required autocomplete="off" title="before now: -30m, -1h, -7d, -2w"></label>
          <label>Until<input name="until_relative" .value=${f.until} pattern=${RELATIVE_PATTERN} placeholder="now" autocomplete="off" title="empty for now, or before now: -15m"></label>`
              : nothing
        }
        <label class="q">Search<input name="q" type="search" .value=${f.q} placeholder="free text" autocomplete="off"></label>
        <button class="primary" type="submit">Apply</button>
      </form>
      <tp-histogram .data=${this.histogram} @zoom=${this.onZoom}></tp-histogram>
      <div class="actions">
        <button type="button" @click=${this.verifyView} ?disabled=${this.rows.length === 0}>Verify this view</button>
        <span class="status ${this.viewStatus.startsWith('✗') ? 'bad' : this.viewStatus.startsWith('✓') ? 'ok' : ''}" role="status" data-view-status>${this.viewStatus}</span>
        <span class="spacer"></span>
        ${this.exportFormats.map((fmt) => html`<button type="button" data-export=${fmt} @click=${() => this.exportAs(fmt)}>Export ${EXPORT_LABELS[fmt] ?? fmt}</button>`)}
        <span class="status" role="status" data-export-status>${this.exportStatus}</span>
      </div>
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : nothing}
      ${this.renderEmptyHint()}
      <tp-event-table .rows=${this.rows} .marks=${this.marks} ?hasMore=${this.cursor !== null} ?loading=${this.loading}
        @load-more=${() => this.cursor && this.loadPage()} @open=${this.openEvent}></tp-event-table>
      ${this.open ? html`<tp-event-drawer .event=${this.open} .verification=${this.verification} @close=${() => (this.open = undefined)}></tp-event-drawer>` : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tp-events': TpEvents;
  }
}
