/**
 * Design tokens. Every colour, font and size is a CSS custom property with a default, so a host
 * page themes the embedded viewer by setting `--tp-*` on `<trailproof-viewer>` (custom properties
 * inherit into shadow DOM; nothing else does). `theme="dark"|"light"` forces a scheme; otherwise
 * the user's `prefers-color-scheme` decides. Documented in docs/console.md.
 */
import { css } from 'lit';

export const tokens = css`
  :host {
    color-scheme: light;
    --_bg: var(--tp-bg, #ffffff);
    --_surface: var(--tp-surface, #f6f7f9);
    --_fg: var(--tp-fg, #1b1f24);
    --_muted: var(--tp-muted, #5b6470);
    --_border: var(--tp-border, #d9dde3);
    --_accent: var(--tp-accent, #2457d6);
    --_accent-fg: var(--tp-accent-fg, #ffffff);
    --_ok: var(--tp-ok, #1a7f37);
    --_bad: var(--tp-bad, #c62828);
    --_ok-bg: var(--tp-ok-bg, #e6f4ea);
    --_bad-bg: var(--tp-bad-bg, #fdecea);
    --_row-hover: var(--tp-row-hover, #eef2fb);
    --_font: var(--tp-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    --_mono: var(--tp-mono, ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace);
    --_radius: var(--tp-radius, 6px);
    --_focus: var(--tp-focus, #2457d6);
    color: var(--_fg);
    background: var(--_bg);
    font-family: var(--_font);
    font-size: 14px;
  }
  :host([theme='dark']) {
    color-scheme: dark;
    --_bg: var(--tp-bg, #111418);
    --_surface: var(--tp-surface, #1a1f25);
    --_fg: var(--tp-fg, #e6e9ed);
    --_muted: var(--tp-muted, #9aa4b0);
    --_border: var(--tp-border, #2e353e);
    --_accent: var(--tp-accent, #6d9bff);
    --_accent-fg: var(--tp-accent-fg, #0b0e12);
    --_ok: var(--tp-ok, #4cc26e);
    --_bad: var(--tp-bad, #ff6b6b);
    --_ok-bg: var(--tp-ok-bg, #13301d);
    --_bad-bg: var(--tp-bad-bg, #3a1717);
    --_row-hover: var(--tp-row-hover, #1f2630);
    --_focus: var(--tp-focus, #6d9bff);
  }
  @media (prefers-color-scheme: dark) {
    :host(:not([theme='light'])) {
      color-scheme: dark;
      --_bg: var(--tp-bg, #111418);
      --_surface: var(--tp-surface, #1a1f25);
      --_fg: var(--tp-fg, #e6e9ed);
      --_muted: var(--tp-muted, #9aa4b0);
      --_border: var(--tp-border, #2e353e);
      --_accent: var(--tp-accent, #6d9bff);
      --_accent-fg: var(--tp-accent-fg, #0b0e12);
      --_ok: var(--tp-ok, #4cc26e);
      --_bad: var(--tp-bad, #ff6b6b);
      --_ok-bg: var(--tp-ok-bg, #13301d);
      --_bad-bg: var(--tp-bad-bg, #3a1717);
      --_row-hover: var(--tp-row-hover, #1f2630);
      --_focus: var(--tp-focus, #6d9bff);
    }
  }
`;

/**
 * Form controls and buttons shared by every component. Inner components use only these (and the
 * --_* variables they inherit); only the outer elements (console, viewer) declare \`tokens\`, so a
 * theme set on them reaches every component inside.
 */
export const controls = css`
  :host { color: var(--_fg); font-family: var(--_font); }
  * { box-sizing: border-box; }
  button, input, select, textarea {
    font: inherit;
    color: var(--_fg);
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 6px 10px;
    min-height: 32px;
  }
  button { cursor: pointer; background: var(--_surface); }
  button.primary { background: var(--_accent); color: var(--_accent-fg); border-color: var(--_accent); }
  button:disabled { opacity: 0.6; cursor: default; }
  :focus-visible { outline: 2px solid var(--_focus); outline-offset: 1px; }
  label { display: flex; flex-direction: column; gap: 2px; font-size: 12px; color: var(--_muted); }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  .error { color: var(--_bad); background: var(--_bad-bg); padding: 8px 12px; border-radius: var(--_radius); }
  .muted { color: var(--_muted); }
  code, pre, .mono { font-family: var(--_mono); font-size: 12px; }
  .service-record { display: inline-block; padding: 0 6px; margin-right: 6px; border-radius: var(--_radius); border: 1px solid var(--_accent); color: var(--_accent); font-family: var(--_font); font-size: 11px; font-weight: 600; line-height: 18px; vertical-align: middle; }
`;

/** Layout of the console's operator pages (tenants, keys, ledger, streams): forms, tables, definition lists. */
export const operatorPage = [
  controls,
  css`
  :host { display: block; background: transparent; }
  table { width: 100%; border-collapse: collapse; margin-top: 12px; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--_border); }
  th { font-size: 12px; color: var(--_muted); }
  form { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-end; }
  .secret { margin-top: 12px; padding: 12px; border: 1px solid var(--_accent); border-radius: var(--_radius); background: var(--_surface); }
  .secret code { display: block; margin: 6px 0; user-select: all; overflow-wrap: anywhere; }
  dl { display: grid; grid-template-columns: 180px 1fr; gap: 6px 12px; }
  dt { color: var(--_muted); }
  dd { margin: 0; overflow-wrap: anywhere; }
  .ok { color: var(--_ok); font-weight: 600; }
  .bad { color: var(--_bad); font-weight: 600; }
  .field { display: flex; flex-direction: column; gap: 2px; }
  .field-error { color: var(--_bad); font-size: 12px; max-width: 40ch; }
`,
];
