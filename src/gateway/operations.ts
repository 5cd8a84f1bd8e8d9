/**
 * The operations the gateway forwards: each provider adapter lists the calls it knows how to meter (method and path
 * pattern, what the body is), and a call that matches none is answered by Tollgate and never leaves it with the
 * tenant's key. Paths are checked and normalised before they are matched; the normalised path is what is forwarded.
 */

/** What a matched operation's body must be. `none`: no body (a status poll); `any`: forwarded as sent (passthrough). */
export type BodyKind = 'json' | 'multipart' | 'none' | 'any';

/** One operation of a provider, as its adapter lists it. */
export interface OperationSpec {
  /** The operation's name (stable: it is recorded and shown). */
  name: string;
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  /**
   * The provider's path; `{name}` stands for one path segment (or part of one, as in `{model}:generateContent`) of
   * letters, digits and `. _ - ~ @ +`, starting with a letter or a digit.
   */
  path: string;
  body: BodyKind;
  /** The largest body accepted (bytes); the gateway's default otherwise. */
  maxBodyBytes?: number;
}

/** A request matched to an operation. */
export interface MatchedOperation {
  spec: OperationSpec;
  /** The `{name}` parts of the path. */
  params: Record<string, string>;
  /** An operator-allowed extra operation (`passthrough`): forwarded and audited, not metered. */
  passthrough: boolean;
}

const PARAM = '([A-Za-z0-9][A-Za-z0-9._~@+-]{0,255})';

export interface CompiledOperation {
  spec: OperationSpec;
  re: RegExp;
  names: string[];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function compileOperation(spec: OperationSpec): CompiledOperation {
  const names: string[] = [];
  let src = '';
  let last = 0;
  for (const m of spec.path.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    src += escape(spec.path.slice(last, m.index)) + PARAM;
    names.push(m[1]);
    last = m.index! + m[0].length;
  }
  src += escape(spec.path.slice(last));
  return { spec, re: new RegExp(`^${src}$`), names };
}

/** An adapter's operations, compiled once: exact paths in a map by `METHOD path`, patterns in a list. */
export class OperationTable {
  private readonly exact = new Map<string, CompiledOperation>();
  private readonly patterns: CompiledOperation[] = [];

  constructor(specs: readonly OperationSpec[]) {
    for (const spec of specs) {
      const c = compileOperation(spec);
      if (c.names.length) this.patterns.push(c);
      else this.exact.set(`${spec.method} ${spec.path}`, c);
    }
  }

  /** The operation a normalised path and method are, or null. Methods are matched as sent (HTTP methods are case-sensitive). */
  match(method: string, path: string): { spec: OperationSpec; params: Record<string, string> } | null {
    const hit = this.exact.get(`${method} ${path}`);
    if (hit) return { spec: hit.spec, params: {} };
    for (const c of this.patterns) {
      if (c.spec.method !== method) continue;
      const m = c.re.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      c.names.forEach((n, i) => (params[n] = m[i + 1]));
      return { spec: c.spec, params };
    }
    return null;
  }

  /** Whether the path is some operation's with another method (answered 405 rather than 404). */
  knowsPath(path: string): boolean {
    for (const c of this.exact.values()) if (c.spec.path === path) return true;
    return this.patterns.some((c) => c.re.test(path));
  }
}

/** Why a path is refused before it is matched. */
export type PathProblem = 'dot_segment' | 'encoded_separator' | 'backslash' | 'control' | 'too_long';

export const MAX_PATH_LENGTH = 2048;

/**
 * Checks and normalises a provider path as received (still percent-encoded): refused when it holds a dot segment
 * (`.` or `..`, also written `%2e`), an encoded slash or backslash (`%2f`, `%5c`), a backslash, or a control
 * character; repeated slashes are collapsed. Returns the path to match and to forward, or the problem.
 */
export function normalisePath(raw: string): { path: string } | { problem: PathProblem } {
  if (raw.length > MAX_PATH_LENGTH) return { problem: 'too_long' };
  let plain = true;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x5c) return { problem: 'backslash' };
    if (c < 0x21 || c === 0x7f) return { problem: 'control' };
    // '%' or '.' or a doubled '/': the slow path below.
    if (c === 0x25 || c === 0x2e || (c === 0x2f && raw.charCodeAt(i + 1) === 0x2f)) plain = false;
  }
  if (plain) return { path: raw };
  if (/%(2f|5c)/i.test(raw)) return { problem: 'encoded_separator' };
  if (/%(0[0-9a-f]|1[0-9a-f]|7f)/i.test(raw)) return { problem: 'control' };
  const segments = raw.split('/');
  for (const s of segments) {
    const d = s.replace(/%2e/gi, '.');
    if (d === '.' || d === '..') return { problem: 'dot_segment' };
  }
  if (/%2e/i.test(raw)) return { problem: 'dot_segment' };
  return { path: raw.replace(/\/{2,}/g, '/') };
}

/** `provider:METHOD /path` (an operator's passthrough entry), parsed; null when malformed. */
export function parsePassthrough(entry: string): { provider: string; spec: OperationSpec } | null {
  const m = /^([a-z]+):(GET|POST|PUT|PATCH|DELETE) (\/[A-Za-z0-9._~@+:{}/-]{0,500})$/.exec(entry);
  if (!m) return null;
  const path = m[3];
  const check = normalisePath(path.replace(/\{[A-Za-z_][A-Za-z0-9_]*\}/g, 'x'));
  if ('problem' in check || check.path !== path.replace(/\{[A-Za-z_][A-Za-z0-9_]*\}/g, 'x')) return null;
  return { provider: m[1], spec: { name: `passthrough ${m[2]} ${path}`, method: m[2] as OperationSpec['method'], path, body: 'any' } };
}
