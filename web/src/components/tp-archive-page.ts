/**
 * The Archive page (docs/lifecycle.md#cold-archive): the chosen tenant's archived periods. Lists
 * its segments (leaf range, period, checkpoint, SHA-256), downloads a segment as stored or its
 * events as JSON Lines, and shows one archived event by leaf index or uid with its inclusion proof,
 * checked in this browser against the tenant's published key as the events view checks live ones.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { Api, errorText, publishedKeys } from '../api.ts';
import { saveBlob } from '../download.ts';
import { FieldErrors, fieldError } from '../field-errors.ts';
import { jsonText } from '../format.ts';
import { operatorPage } from '../theme.ts';
import { TimeZoneController, timeText } from '../time-zone.ts';
import { verifyProof, type ProofResponse, type VerifyResult } from '../verify/proof.ts';
import { badgeStyles, verificationBadge } from './verify-badge.ts';

interface Segment {
  tenant: string;
  from: number;
  to: number;
  name: string;
  sha256: string;
  bytes: number;
  checkpoint_size: number;
  created_at: string;
  first_received_at: string | null;
  last_received_at: string | null;
}

const UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type ArchivedEvent = ProofResponse & { tenant: string; segment: string; erased: boolean };

@customElement('tp-archive-page')
export class TpArchivePage extends LitElement {
  @property({ attribute: false }) api!: Api;
  @property() tenant = '';
  /** Re-renders this element when the view's time zone changes. */
  protected readonly timeZone = new TimeZoneController(this);
  @state() private segments: Segment[] | undefined;
  @state() private error = '';
  @state() private downloadStatus = '';
  @state() private event: ArchivedEvent | undefined;
  /** undefined while checking. */
  @state() private verification: VerifyResult | undefined;
  @state() private lookupErrors = FieldErrors.none;
  @state() private lookupError = '';

  static override styles = [
    operatorPage,
    badgeStyles,
    css`
      section { margin-top: 20px; }
      pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 12px; }
      td .actions { display: flex; gap: 6px; flex-wrap: wrap; }
    `,
  ];

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('tenant') || changed.has('api')) void this.load();
  }

  private async load(): Promise<void> {
    this.event = undefined;
    try {
      this.segments = (await this.api.get<{ data: Segment[] }>('/v1/archive/segments', new URLSearchParams(this.tenant ? { tenant: this.tenant } : {}))).data;
      this.error = '';
    } catch (err) {
      this.segments = undefined;
      this.error = errorText(err);
    }
  }

  /** Downloads `path` and saves it as `name`, with a running size. */
  private async download(path: string, params: URLSearchParams, name: string): Promise<void> {
    this.downloadStatus = `Downloading ${name}…`;
    try {
      const blob = await this.api.download(path, params, (bytes) => {
        this.downloadStatus = `Downloading ${name}… ${(bytes / 1024).toFixed(0)} KiB`;
      });
      saveBlob(blob, name);
      this.downloadStatus = `Downloaded ${name} (${(blob.size / 1024).toFixed(1)} KiB)`;
    } catch (err) {
      this.downloadStatus = `Download failed: ${errorText(err)}`;
    }
  }

  private downloadSegment(s: Segment): Promise<void> {
    return this.download(`/v1/archive/segments/${encodeURIComponent(s.tenant)}/${s.from}`, new URLSearchParams(), s.name.split('/').at(-1) ?? s.name);
  }

  private exportEvents(s: Segment): Promise<void> {
    const params = new URLSearchParams({ tenant: s.tenant, from: String(s.from), to: String(s.to) });
    return this.download('/v1/archive/export', params, `trailproof-${s.tenant}-archive-${s.from}-${s.to}.jsonl`);
  }

  /**
   * Fetches the archived event at the leaf index typed (the API judges it), or of the event uid
   * typed (its leaf stays in the log after a purge, so its proof names the index), and checks its
   * proof here.
   */
  private async lookUp(e: Event): Promise<void> {
    e.preventDefault();
    const typed = String(new FormData(e.target as HTMLFormElement).get('index') ?? '').trim();
    this.event = undefined;
    try {
      const index = UID.test(typed) ? await this.indexOf(typed) : typed;
      const event = await this.api.get<ArchivedEvent>(`/v1/archive/events/${encodeURIComponent(this.tenant)}/${encodeURIComponent(index)}`);
      this.lookupErrors = FieldErrors.none;
      this.lookupError = '';
      this.event = event;
      this.verification = undefined;
      const keys = await publishedKeys(this.api, event.tenant);
      const result = await verifyProof(event, keys);
      if (this.event === event) this.verification = result;
    } catch (err) {
      this.lookupErrors = FieldErrors.of(err);
      this.lookupError = this.lookupErrors.allPlaced(['/index']) ? '' : errorText(err);
    }
  }

  /** The leaf index of the event `uid` of this tenant. */
  private async indexOf(uid: string): Promise<string> {
    const { envelope } = await this.api.get<ProofResponse>(`/v1/events/${encodeURIComponent(uid)}/proof`);
    if (envelope.tenant !== this.tenant) throw new Error(`event ${uid} is in tenant ${envelope.tenant}, not ${this.tenant}`);
    return String(envelope.index);
  }

  override render() {
    return html`<h2>Archive of ${this.tenant}</h2>
      <p class="muted">Periods a lifecycle run moved to the cold archive before purging them from the database. Each segment verifies offline with <span class="mono">trailproof archive verify</span>.</p>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${this.renderSegments()}
      ${this.downloadStatus ? html`<p role="status" data-download-status>${this.downloadStatus}</p>` : nothing}
      ${this.renderLookup()}`;
  }

  private renderSegments() {
    const segments = this.segments;
    if (!segments) return nothing;
    if (segments.length === 0) return html`<p class="muted" data-no-segments>Nothing archived yet.</p>`;
    return html`<table aria-label="Archived segments"><thead><tr>
        <th scope="col">Leaves</th><th scope="col">Period (received)</th><th scope="col">Checkpoint</th><th scope="col">SHA-256</th><th scope="col">Archived</th><th scope="col"></th>
      </tr></thead>
      <tbody>${segments.map(
        (s) => html`<tr data-segment=${s.from}>
          <td class="mono">${s.from.toLocaleString()}–${(s.to - 1).toLocaleString()} <span class="muted">(${(s.to - s.from).toLocaleString()} events)</span></td>
          <td>${s.first_received_at ? timeText(s.first_received_at) : '?'} → ${s.last_received_at ? timeText(s.last_received_at) : '?'}</td>
          <td>tree size ${s.checkpoint_size.toLocaleString()}</td>
          <td class="mono" title=${s.sha256}>${s.sha256.slice(0, 16)}…</td>
          <td>${timeText(s.created_at)} <span class="muted">(${(s.bytes / 1024).toFixed(1)} KiB)</span></td>
          <td><div class="actions">
            <button type="button" @click=${() => this.downloadSegment(s)} aria-label=${`Download segment ${s.from}–${s.to - 1}`}>Segment</button>
            <button type="button" @click=${() => this.exportEvents(s)} aria-label=${`Export events ${s.from}–${s.to - 1}`}>Events (JSON Lines)</button>
          </div></td>
        </tr>`,
      )}</tbody></table>`;
  }

  private renderLookup() {
    const errors = this.lookupErrors;
    const e = this.event;
    return html`<section aria-labelledby="lookup-title">
      <h3 id="lookup-title">An archived event</h3>
      <form novalidate @submit=${this.lookUp} aria-label="Show an archived event">
        <div class="field"><label>Leaf index or event uid<input name="index" required placeholder=${this.segments?.[0] ? String(this.segments[0].from) : '0'}
          aria-invalid=${errors.invalid('/index')} aria-describedby=${errors.describedBy('/index')}></label>${fieldError(errors, '/index')}</div>
        <button class="primary" type="submit">Show</button>
      </form>
      ${this.lookupError ? html`<p class="error" role="alert">${this.lookupError}</p>` : nothing}
      ${
        e
          ? html`<div data-archived-event>
        <p aria-live="polite">${verificationBadge(this.verification)}</p>
        <dl>
          <dt>Leaf index</dt><dd class="mono">${e.leaf_index}</dd>
          <dt>uid</dt><dd class="mono">${e.envelope.uid}</dd>
          <dt>Received</dt><dd title=${e.envelope.received_at}>${timeText(e.envelope.received_at)}</dd>
          <dt>Segment</dt><dd class="mono">${e.segment}</dd>
          <dt>Commitment</dt><dd class="mono">${e.envelope.commitment}</dd>
        </dl>
        <h4>Event</h4>
        ${e.event ? html`<pre data-event-json>${jsonText(e.event)}</pre>` : html`<p class="muted">${e.erased ? 'Erased: only its place in the log remains.' : 'Its payload was gone before it was archived.'}</p>`}
        <h4>Inclusion proof</h4>
        <pre data-proof>${e.proof}</pre>
        <h4>Checkpoint</h4>
        <pre data-checkpoint-note>${e.checkpoint}</pre>
      </div>`
          : nothing
      }
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tp-archive-page': TpArchivePage;
  }
}
