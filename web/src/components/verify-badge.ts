/**
 * The result of checking an inclusion proof in this browser (verify/proof.ts) as a badge: pending,
 * ✓ with the checkpoint's tree size, or ✗ naming the step that failed.
 */
import { css, html } from 'lit';
import type { VerifyResult } from '../verify/proof.ts';

/** `v`: undefined while checking. */
export function verificationBadge(v: VerifyResult | undefined) {
  if (!v) return html`<span class="badge pending" data-verify="pending">Verifying inclusion proof…</span>`;
  if (v.ok)
    return html`<span class="badge ok" data-verify="ok" title=${`Leaf ${v.index} of ${v.origin}`}>✓ Verified against the checkpoint of tree size ${v.checkpointSize.toLocaleString()}</span>`;
  return html`<span class="badge bad" data-verify="failed">✗ Verification failed (${v.step}): ${v.message}</span>`;
}

export const badgeStyles = css`
  .badge { display: inline-flex; gap: 6px; align-items: center; padding: 6px 10px; border-radius: var(--_radius); font-weight: 600; }
  .badge.ok { color: var(--_ok); background: var(--_ok-bg); }
  .badge.bad { color: var(--_bad); background: var(--_bad-bg); }
  .badge.pending { color: var(--_muted); background: var(--_surface); }
`;
