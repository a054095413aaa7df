/**
 * Field-level errors of a rejected request, placed beside the form control they are about: the
 * API names each offending field by the JSON pointer (RFC 6901) of its value in the request body
 * (docs/errors.md), and a control declares the pointer it edits.
 */
import { html, nothing } from 'lit';
import { ApiError } from './api.ts';

export class FieldErrors {
  static readonly none = new FieldErrors([]);

  private constructor(private readonly details: readonly { pointer: string; message: string }[]) {}

  static of(err: unknown): FieldErrors {
    return err instanceof ApiError ? new FieldErrors(err.details) : FieldErrors.none;
  }

  /** The message about `pointer` or anything inside it (`/filter/actions/2` belongs to `/filter/actions`). */
  at(pointer: string): string | undefined {
    return this.details.find((d) => d.pointer === pointer || d.pointer.startsWith(`${pointer}/`))?.message;
  }

  /** `aria-invalid` of the control that edits `pointer`: "true" when it has an error, else absent. */
  invalid(pointer: string) {
    return this.at(pointer) ? 'true' : nothing;
  }

  /** `aria-describedby` of the control that edits `pointer`: its message, when it has one. */
  describedBy(pointer: string) {
    return this.at(pointer) ? errorId(pointer) : nothing;
  }

  /** Whether every error has a control among `pointers` to be shown beside. */
  allPlaced(pointers: Iterable<string>): boolean {
    const known = [...pointers];
    return this.details.length > 0 && this.details.every((d) => known.some((p) => d.pointer === p || d.pointer.startsWith(`${p}/`)));
  }
}

/** The id of the message element of `pointer`, for the control's `aria-describedby`. */
export function errorId(pointer: string): string {
  return `error${pointer.replace(/[^a-zA-Z0-9_-]/g, '-')}`;
}

/** The message beside the control that edits `pointer`, if there is one. */
export function fieldError(errors: FieldErrors, pointer: string) {
  const message = errors.at(pointer);
  return message ? html`<span class="field-error" id=${errorId(pointer)} data-error-for=${pointer}>${message}</span>` : nothing;
}
