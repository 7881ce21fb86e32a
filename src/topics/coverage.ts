/**
 * Does a granted topic pattern cover a requested one? NATS semantics: `*` is exactly one token,
 * `>` is one or more trailing tokens. A grant covers a request when every subject the request can
 * match is matched by the grant, so a wildcard subscription passes only where the grant's pattern
 * covers the whole wildcard (`orders.>` covers `orders.*`; `orders.*` does not cover `orders.>`).
 * Both arguments are valid patterns (checked by checkTopic); topics are compared relative to the prefix.
 */

export function patternCovers(grant: string, requested: string): boolean {
  if (grant === requested) return true;
  const g = grant.split('.');
  const r = requested.split('.');
  for (let i = 0; i < r.length; i++) {
    const granted = g[i];
    // `>` here takes every remaining token, and there is at least one (i < r.length).
    if (granted === '>') return true;
    if (granted === undefined) return false; // the request reaches subjects longer than the grant
    const asked = r[i]!;
    if (asked === '>') return false; // only `>` covers `>` (handled above)
    if (asked === '*') {
      if (granted !== '*') return false;
    } else if (granted !== '*' && granted !== asked) return false;
  }
  return g.length === r.length;
}

/** The first of `grants` covering `requested`, if any. */
export function anyCovers(grants: readonly string[], requested: string): boolean {
  for (const grant of grants) if (patternCovers(grant, requested)) return true;
  return false;
}
