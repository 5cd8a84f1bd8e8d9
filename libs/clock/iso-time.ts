const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * A time in `toISOString()` form. Event times are stored in that form, so the common case costs a regex test instead
 * of a Date parse and format per event per projection; any other form is parsed and formatted.
 */
export const isoTime = (s: string): string => (ISO.test(s) ? s : new Date(s).toISOString());
