/** How much of a multipart body is searched for form fields: they come before the file parts in the SDKs' bodies. */
const SCAN_BYTES = 64 * 1024;

/**
 * The text value of each named field of a multipart/form-data body (`name="model"` then a blank line then the value),
 * read from its first 64 KiB without parsing the parts; absent fields are left out.
 */
export function multipartFields(raw: Buffer | undefined, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw || !raw.length) return out;
  const text = raw.toString('latin1', 0, Math.min(raw.length, SCAN_BYTES));
  for (const name of names) {
    const m = new RegExp(`name="${name}"\\r?\\n(?:[^\\r\\n]+\\r?\\n)*\\r?\\n([^\\r\\n]*)`).exec(text);
    if (m) out[name] = m[1];
  }
  return out;
}
