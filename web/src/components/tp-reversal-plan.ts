/**
 * The reversal plan of one actor's captured changes in a window (POST /v1/reversals,
 * docs/capture.md#reversal): each inverse change newest first — the row, the field, the value now →
 * the value it restores — clean or in conflict with a later change (when, and who made it), the SQL,
 * and the plan as JSON to copy or download for `trailproof capture revert`. Planning changes
 * nothing; it is recorded as `reversal.planned`.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { Api, errorText } from '../api.ts';
import { saveBlob } from '../download.ts';
import { FieldErrors, fieldError } from '../field-errors.ts';
import { jsonText } from '../format.ts';
import { operatorPage } from '../theme.ts';
import { inputToIso, TimeZoneController, timeText, zoneName } from '../time-zone.ts';

interface Conflict {
  event_uid: string;
  occurred_at: string;
  actor: { type: string; id: string };
  reason: 'later_change' | 'value_truncated';
}

type Step = {
  schema: string;
  table: string;
  key: Record<string, unknown>;
  event_uid: string;
  occurred_at: string;
  status: 'clean' | 'conflict';
  conflicts: Conflict[];
  sql: string;
} & ({ op: 'update'; field: string; set: unknown; expect: unknown } | { op: 'delete_row' } | { op: 'insert_row'; values: Record<string, unknown> });

interface Plan {
  id: string;
  tenant: string;
  actor: string;
  since: string;
  until: string;
  created_at: string;
  steps: Step[];
  summary: { steps: number; clean: number; conflicts: number };
  sql: string;
}

const FIELDS = ['/actor', '/since', '/until'];

@customElement('tp-reversal-plan')
export class TpReversalPlan extends LitElement {
  @property({ attribute: false }) api!: Api;
  @property() tenant = '';
  /** Re-renders this element when the view's time zone changes. */
  protected readonly timeZone = new TimeZoneController(this);
  @state() private plan: Plan | undefined;
  @state() private errors = FieldErrors.none;
  @state() private error = '';
  @state() private copied = false;

  static override styles = [
    operatorPage,
    css`
      section { margin-top: 20px; }
      pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 12px; }
      tr.conflict { background: var(--_bad-bg); }
      .conflict-with { color: var(--_bad); }
      .arrow { color: var(--_muted); padding: 0 4px; }
      .plan-actions { display: flex; gap: 8px; align-items: center; margin-top: 8px; }
    `,
  ];

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('tenant') && changed.get('tenant') !== undefined) this.plan = undefined;
  }

  private async submit(e: Event): Promise<void> {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    this.copied = false;
    try {
      this.plan = await this.api.post<Plan>('/v1/reversals', {
        tenant: this.tenant,
        actor: text('actor'),
        since: inputToIso(text('since')),
        until: inputToIso(text('until')),
      });
      this.errors = FieldErrors.none;
      this.error = '';
    } catch (err) {
      this.plan = undefined;
      this.errors = FieldErrors.of(err);
      this.error = this.errors.allPlaced(FIELDS) ? '' : errorText(err);
    }
  }

  private planJson(): string {
    return `${JSON.stringify(this.plan, null, 2)}\n`;
  }

  private async copy(): Promise<void> {
    await navigator.clipboard?.writeText(this.planJson());
    this.copied = true;
  }

  override render() {
    const errors = this.errors;
    const field = (pointer: string, label: string, input: unknown) =>
      html`<div class="field"><label>${label}${input}</label>${fieldError(errors, pointer)}</div>`;
    return html`<section aria-labelledby="reversal-title">
      <h3 id="reversal-title">Plan a reversal</h3>
      <p class="muted">The inverse of every captured change one actor made in a window, newest first. Planning changes nothing; apply the plan with <span class="mono">trailproof capture revert</span>.</p>
      <form novalidate @submit=${this.submit} aria-label="Plan a reversal">
        ${field('/actor', 'Actor id', html`<input name="actor" required placeholder="bob" aria-invalid=${errors.invalid('/actor')} aria-describedby=${errors.describedBy('/actor')}>`)}
        ${field('/since', `From (${zoneName()})`, html`<input name="since" type="datetime-local" step="1" required aria-invalid=${errors.invalid('/since')} aria-describedby=${errors.describedBy('/since')}>`)}
        ${field('/until', `Until (${zoneName()}, not included)`, html`<input name="until" type="datetime-local" step="1" required aria-invalid=${errors.invalid('/until')} aria-describedby=${errors.describedBy('/until')}>`)}
        <button class="primary" type="submit">Plan</button>
      </form>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${this.plan ? this.renderPlan(this.plan) : nothing}
    </section>`;
  }

  private renderPlan(plan: Plan) {
    const { summary } = plan;
    return html`<div data-plan=${plan.id}>
      <p role="status" data-summary>${summary.steps} step${summary.steps === 1 ? '' : 's'}: <span class="ok">${summary.clean} clean</span>, <span class=${summary.conflicts ? 'bad' : 'muted'}>${summary.conflicts} in conflict</span>
        <span class="muted">— changes by ${plan.actor} from ${timeText(plan.since)} until ${timeText(plan.until)}</span></p>
      ${
        plan.steps.length === 0
          ? html`<p class="muted">The actor changed no captured row in this window.</p>`
          : html`<table aria-label="Reversal steps, newest first"><thead><tr>
          <th scope="col">Changed</th><th scope="col">Row</th><th scope="col">Field</th><th scope="col">Set then → restored</th><th scope="col">Status</th>
        </tr></thead>
        <tbody>${plan.steps.map((s) => this.renderStep(s))}</tbody></table>`
      }
      <div class="plan-actions">
        <button type="button" @click=${() => saveBlob(new Blob([this.planJson()], { type: 'application/json' }), `reversal-${plan.id}.json`)}>Download plan JSON</button>
        <button type="button" @click=${this.copy}>Copy plan JSON</button>
        ${this.copied ? html`<span role="status">Copied.</span>` : nothing}
      </div>
      <h4>SQL</h4>
      <pre data-sql>${plan.sql}</pre>
    </div>`;
  }

  private renderStep(s: Step) {
    return html`<tr class=${s.status} data-step=${s.event_uid} data-status=${s.status}>
      <td title=${s.occurred_at}>${timeText(s.occurred_at)}</td>
      <td class="mono">${s.schema === 'public' ? '' : `${s.schema}.`}${s.table} ${keyText(s.key)}</td>
      ${
        s.op === 'update'
          ? html`<td class="mono">${s.field}</td><td data-values><span class="mono">${jsonText(s.expect)}</span><span class="arrow">→</span><span class="mono">${jsonText(s.set)}</span></td>`
          : s.op === 'delete_row'
            ? html`<td class="muted">(row)</td><td data-values>delete the row it inserted</td>`
            : html`<td class="muted">(row)</td><td data-values>insert the row it deleted again: <span class="mono">${jsonText(s.values)}</span></td>`
      }
      <td>${
        s.status === 'clean'
          ? html`<span class="ok">clean</span>`
          : html`<span class="bad">conflict</span>${s.conflicts.map(
              (c) =>
                html`<div class="conflict-with" data-conflict>${
                  c.reason === 'value_truncated'
                    ? 'the value to restore was recorded only as its hash'
                    : html`changed later by <strong>${c.actor.type}:${c.actor.id}</strong> at ${timeText(c.occurred_at)}`
                }</div>`,
            )}`
      }</td>
    </tr>`;
  }
}

/** A row key as `id=17` or `org_id=acme, id=3`. */
function keyText(key: Record<string, unknown>): string {
  return Object.entries(key)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

declare global {
  interface HTMLElementTagNameMap {
    'tp-reversal-plan': TpReversalPlan;
  }
}
