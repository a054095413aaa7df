/**
 * The console's Stats page (read keys and up): aggregate panels over `GET /v1/stats`. "Top actors by
 * failed logins this week" loads with the page; the Aggregate panel asks any grouping (actor,
 * action, target, address, day, hour) under filters, for example "who accessed target X, by day,
 * over two years". Each panel shows the events and distinct actors in all and per group, and each
 * group links to its events. The Aggregate panel's question lives in the page URL, so a link shares it.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { Api, errorText } from '../api.ts';
import { operatorPage } from '../theme.ts';

interface StatsGroup {
  key: string | null;
  target_type?: string;
  target_id?: string;
  events: number;
  actors: number;
}

interface Stats {
  group_by: string;
  source: 'rollups' | 'events';
  groups: StatsGroup[];
  total: { events: number; actors: number };
}

const GROUP_BY = ['actor', 'action', 'target', 'ip', 'day', 'hour'] as const;
type GroupBy = (typeof GROUP_BY)[number];
const DAY = 86_400_000;
const RANGES = { '24h': DAY, '7d': 7 * DAY, '30d': 30 * DAY, '1y': 365 * DAY, '2y': 730 * DAY } as const;
type Range = keyof typeof RANGES;
/** The Aggregate panel's filters, as `GET /v1/stats` and the page URL spell them. */
const FIELDS = ['action', 'actor', 'target_type', 'target_id', 'outcome'] as const;

interface Question {
  group_by: GroupBy;
  range: Range;
  action: string;
  actor: string;
  target_type: string;
  target_id: string;
  outcome: string;
}

@customElement('tp-stats-page')
export class TpStatsPage extends LitElement {
  @property({ attribute: false }) api!: Api;
  /** The tenant, for a key bound to no tenant; '' for a bound key (the server uses its tenant). */
  @property() tenant = '';
  @state() private failedLogins: Stats | undefined;
  @state() private failedError = '';
  @state() private question: Question = questionFromUrl(location.search);
  @state() private answer: Stats | undefined;
  @state() private answerError = '';
  @state() private busy = false;
  private asked: { since: string } | undefined;

  static override styles = [
    operatorPage,
    css`
    section { margin-bottom: 24px; overflow-x: auto; }
    h2 { margin: 0 0 8px; font-size: 16px; }
    .totals { display: flex; gap: 24px; margin: 8px 0; }
    .totals strong { font-size: 20px; display: block; }
    .bar { height: 10px; background: var(--_accent); border-radius: 2px; min-width: 1px; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    td.barcell { width: 40%; }
    .scroll { max-height: 60vh; overflow: auto; }
    .bad { color: var(--_bad); }
  `,
  ];

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('tenant') || changed.has('api')) {
      void this.loadFailedLogins();
      void this.ask();
    }
  }

  private params(extra: Record<string, string>): URLSearchParams {
    return new URLSearchParams({ ...(this.tenant ? { tenant: this.tenant } : {}), ...extra });
  }

  private async loadFailedLogins(): Promise<void> {
    try {
      this.failedLogins = await this.api.get<Stats>(
        '/v1/stats',
        this.params({ group_by: 'actor', action: 'user.login_failed', since: windowStart('7d', 'actor'), limit: '10' }),
      );
      this.failedError = '';
    } catch (err) {
      this.failedError = errorText(err);
    }
  }

  private async ask(): Promise<void> {
    const q = this.question;
    const since = windowStart(q.range, q.group_by, q.target_id !== '');
    const filters: Record<string, string> = { group_by: q.group_by, since };
    for (const k of FIELDS) if (q[k].trim()) filters[k] = q[k].trim();
    this.busy = true;
    try {
      this.answer = await this.api.get<Stats>('/v1/stats', this.params(filters));
      this.asked = { since };
      this.answerError = '';
    } catch (err) {
      this.answerError = errorText(err);
      this.answer = undefined;
    } finally {
      this.busy = false;
    }
  }

  private submit(e: Event): void {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const text = (k: string) => String(form.get(k) ?? '');
    this.question = {
      group_by: (GROUP_BY as readonly string[]).includes(text('group_by')) ? (text('group_by') as GroupBy) : 'day',
      range: text('range') in RANGES ? (text('range') as Range) : '30d',
      action: text('action'),
      actor: text('actor'),
      target_type: text('target_type'),
      target_id: text('target_id'),
      outcome: text('outcome'),
    };
    history.replaceState(null, '', `${location.pathname}?${questionToUrl(this.question, new URLSearchParams(location.search))}`);
    void this.ask();
  }

  /** The events view of one group: the question's filters, the group's own value, and its window. */
  private eventsLink(q: Partial<Question>, groupBy: GroupBy, g: StatsGroup, since: string): string {
    const p = new URLSearchParams({ view: 'events' });
    if (this.tenant) p.set('tenant', this.tenant);
    for (const k of FIELDS) if (q[k]?.trim()) p.set(k, q[k].trim());
    let from = since;
    let until = new Date(Date.now() + 1000).toISOString();
    if (groupBy === 'actor' && g.key) p.set('actor', g.key);
    else if (groupBy === 'action' && g.key) p.set('action', g.key);
    else if (groupBy === 'ip' && g.key) p.set('ip', g.key);
    else if (groupBy === 'target' && g.target_type !== undefined && g.target_id !== undefined) {
      p.set('target_type', g.target_type);
      p.set('target_id', g.target_id);
    } else if ((groupBy === 'day' || groupBy === 'hour') && g.key) {
      from = groupBy === 'day' ? `${g.key}T00:00:00.000Z` : g.key.replace('Z', '.000Z');
      until = new Date(Date.parse(from) + (groupBy === 'day' ? DAY : 3_600_000)).toISOString();
    }
    p.set('range', 'custom');
    p.set('since', from);
    p.set('until', until);
    return `?${p}`;
  }

  override render() {
    const q = this.question;
    return html`
      <section aria-labelledby="failed-h">
        <h2 id="failed-h">Top actors by failed logins, last 7 days</h2>
        ${
          this.failedError
            ? html`<p role="alert" class="bad">${this.failedError}</p>`
            : this.failedLogins
              ? this.renderStats(this.failedLogins, 'actor', { action: 'user.login_failed' }, windowStart('7d', 'actor'), 'failed logins')
              : html`<p>Loading…</p>`
        }
      </section>
      <section aria-labelledby="aggregate-h">
        <h2 id="aggregate-h">Aggregate</h2>
        <form @submit=${this.submit} aria-label="Aggregate question">
          <label>Group by<select name="group_by">${GROUP_BY.map((g) => html`<option value=${g} ?selected=${g === q.group_by}>${g}</option>`)}</select></label>
          <label>Action<input name="action" .value=${q.action} placeholder="document.* or user.login"></label>
          <label>Actor<input name="actor" .value=${q.actor}></label>
          <label>Target type<input name="target_type" .value=${q.target_type} placeholder="document"></label>
          <label>Target id<input name="target_id" .value=${q.target_id}></label>
          <label>Outcome<select name="outcome">
            ${['', 'success', 'failure'].map((o) => html`<option value=${o} ?selected=${o === q.outcome}>${o || 'any'}</option>`)}
          </select></label>
          <label>Range<select name="range">${Object.keys(RANGES).map((r) => html`<option value=${r} ?selected=${r === q.range}>last ${r}</option>`)}</select></label>
          <button class="primary" type="submit" ?disabled=${this.busy}>${this.busy ? 'Counting…' : 'Count'}</button>
        </form>
        ${
          this.answerError
            ? html`<p role="alert" class="bad">${this.answerError}</p>`
            : this.answer && this.asked
              ? this.renderStats(this.answer, q.group_by, q, this.asked.since, 'events')
              : nothing
        }
      </section>`;
  }

  private renderStats(stats: Stats, groupBy: GroupBy, q: Partial<Question>, since: string, noun: string) {
    const max = Math.max(1, ...stats.groups.map((g) => g.events));
    const label = groupBy === 'day' || groupBy === 'hour' ? `${groupBy} (UTC)` : groupBy;
    return html`
      <div class="totals" data-totals>
        <div><strong data-total-events>${stats.total.events.toLocaleString()}</strong><span class="muted">${noun}</span></div>
        <div><strong data-total-actors>${stats.total.actors.toLocaleString()}</strong><span class="muted">distinct actors</span></div>
        <div><strong>${stats.groups.length.toLocaleString()}</strong><span class="muted">${groupBy === 'day' || groupBy === 'hour' ? `${groupBy}s with events` : 'groups shown'}</span></div>
      </div>
      ${
        stats.groups.length === 0
          ? html`<p>Nothing matches.</p>`
          : html`<div class="scroll"><table>
            <thead><tr><th>${label}</th><th>Events</th><th>Distinct actors</th><th><span class="sr-only">Share</span></th></tr></thead>
            <tbody>
              ${stats.groups.map(
                (g) => html`<tr data-group=${g.key ?? ''}>
                  <td><a href=${this.eventsLink(q, groupBy, g, since)}>${g.key ?? '(none)'}</a></td>
                  <td class="num">${g.events.toLocaleString()}</td>
                  <td class="num">${g.actors.toLocaleString()}</td>
                  <td class="barcell"><div class="bar" style="width: ${(g.events / max) * 100}%"></div></td>
                </tr>`,
              )}
            </tbody>
          </table></div>`
      }`;
  }
}

/**
 * The start of a window ending now, on a whole UTC hour (or UTC midnight for a day grouping or a
 * target over days), which the rollups answer without reading events (docs/api.md#aggregates).
 */
function windowStart(range: Range, groupBy: GroupBy, target = false): string {
  const unit = RANGES[range] >= 7 * DAY && (groupBy === 'day' || target) ? DAY : 3_600_000;
  return new Date(Math.floor((Date.now() - RANGES[range]) / unit) * unit).toISOString();
}

function questionFromUrl(search: string): Question {
  const p = new URLSearchParams(search);
  const groupBy = p.get('group_by') ?? '';
  const range = p.get('range') ?? '';
  return {
    group_by: (GROUP_BY as readonly string[]).includes(groupBy) ? (groupBy as GroupBy) : 'day',
    range: range in RANGES ? (range as Range) : '30d',
    action: p.get('action') ?? '',
    actor: p.get('actor') ?? '',
    target_type: p.get('target_type') ?? '',
    target_id: p.get('target_id') ?? '',
    outcome: p.get('outcome') ?? '',
  };
}

function questionToUrl(q: Question, base: URLSearchParams): URLSearchParams {
  const p = new URLSearchParams(base);
  for (const k of [...FIELDS, 'group_by', 'range'] as const) p.delete(k);
  p.set('group_by', q.group_by);
  p.set('range', q.range);
  for (const k of FIELDS) if (q[k].trim()) p.set(k, q[k].trim());
  return p;
}

declare global {
  interface HTMLElementTagNameMap {
    'tp-stats-page': TpStatsPage;
  }
}
