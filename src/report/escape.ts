/**
 * Text into the report, safe to look at: bidirectional controls (U+202E "right-to-left override"
 * and its kin) would reorder what follows them, so they are shown as a visible `[U+202E]`; line and
 * paragraph separators (U+2028/2029, NEL) and other control characters would break a figure's
 * label or a table row, so they become a space.
 */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
const BREAKING = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u0085\u2028\u2029]/g;

export function displayText(s: string): string {
  return s.replace(BIDI_CONTROLS, (c) => `[U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`).replace(BREAKING, ' ');
}

/** Text into HTML: shown as text (displayText), and the five characters that could open markup, escaped. */
export function esc(s: unknown): string {
  return displayText(String(s ?? '')).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
