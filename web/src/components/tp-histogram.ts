/**
 * Activity over the selected range (uPlot bars). Dragging across bars zooms to that range (`zoom`
 * event with since/until); the range presets and custom inputs are the keyboard way to the same.
 */
import { LitElement, css, html, unsafeCSS } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import type { Histogram } from '../api.ts';

@customElement('tp-histogram')
export class TpHistogram extends LitElement {
  @property({ attribute: false }) data: Histogram | undefined;
  @query('.chart') private chart!: HTMLDivElement;
  private plot: uPlot | undefined;
  private resize = new ResizeObserver(() => this.plot?.setSize(this.size()));

  static override styles = [
    unsafeCSS(uplotCss),
    css`
    :host { display: block; }
    .chart { height: 110px; width: 100%; }
    .summary { font-size: 12px; color: var(--_muted); margin: 2px 0 4px; }
    .u-select { background: color-mix(in srgb, var(--_accent) 25%, transparent); }
  `,
  ];

  override render() {
    const d = this.data;
    return html`<div class="summary" aria-live="polite">${d ? `${d.total.toLocaleString()} events in range · drag across the bars to zoom` : 'Loading activity…'}</div>
      <div class="chart" role="img" aria-label=${d ? `Activity histogram: ${d.total} events between ${d.since} and ${d.until}` : 'Activity histogram'}></div>`;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('trailproof-theme', this.redraw);
  }

  private redraw = () => this.plot?.redraw(false);

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('trailproof-theme', this.redraw);
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }

  override updated(changed: Map<string, unknown>): void {
    if (!changed.has('data') || !this.data) return;
    const d = this.data;
    const xs = d.counts.map((_, i) => (Date.parse(d.since) + i * d.bucket_ms) / 1000);
    const data: uPlot.AlignedData = [xs, d.counts];
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    // Colours are read from the theme variables at each draw, so a theme switch only needs a redraw.
    const color = (name: string, fallback: string) => () => getComputedStyle(this).getPropertyValue(name).trim() || fallback;
    const muted = color('--_muted', '#5b6470');
    const grid = color('--_border', '#d9dde3');
    const accent = color('--_accent', '#2457d6');
    const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '11px system-ui' };
    this.plot = new uPlot(
      {
        ...this.size(),
        legend: { show: false },
        cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
        scales: { x: { time: true } },
        axes: [{ ...axis }, { ...axis, size: 44 }],
        series: [{}, { fill: accent, stroke: accent, width: 0, paths: uPlot.paths.bars!({ size: [0.9, 60] }) }],
        hooks: {
          setSelect: [
            (u) => {
              if (u.select.width < 3) return;
              const since = u.posToVal(u.select.left, 'x') * 1000;
              const until = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
              u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
              this.dispatchEvent(new CustomEvent('zoom', { detail: { since: new Date(since).toISOString(), until: new Date(until).toISOString() } }));
            },
          ],
        },
      },
      data,
      this.chart,
    );
    this.resize.observe(this);
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(200, this.clientWidth), height: 110 };
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tp-histogram': TpHistogram;
  }
}
