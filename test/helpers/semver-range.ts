/**
 * Whether a Node version satisfies an `engines.node` range, for the checks that the project's engines,
 * its dependencies' engines and the Node a run uses agree (test/unit/engines.test.ts). It reads the
 * range syntax npm documents for engines (`||`, comparators, `^`, `~`, `x` and partial versions) and
 * throws on anything else (hyphen ranges, prereleases), so an unread range fails the check instead of
 * passing it.
 */
type Version = readonly [number, number, number];
type Comparator = (v: Version) => boolean;

const PART = String.raw`(\d+|[xX*])`;
const TOKEN = new RegExp(String.raw`^(\^|~|>=|<=|>|<|=)?v?${PART}(?:\.${PART})?(?:\.${PART})?$`);

export function parseVersion(text: string): Version {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`not a release version: ${text}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

function comparator(token: string, range: string): Comparator {
  const m = TOKEN.exec(token);
  if (!m) throw new Error(`engines range "${range}": cannot read "${token}"`);
  const op = m[1] ?? '=';
  // Parts after the first wildcard or missing part are wildcards too ("20.x" is "20.x.x").
  const given: number[] = [];
  for (const part of [m[2], m[3], m[4]]) {
    if (part === undefined || /^[xX*]$/.test(part)) break;
    given.push(Number(part));
  }
  const low = [given[0] ?? 0, given[1] ?? 0, given[2] ?? 0] as const;
  // The first version past everything the given parts match: 20 -> 21.0.0, 20.19 -> 20.20.0.
  const past = (n: number): Version => (n === 0 ? [Infinity, 0, 0] : n === 1 ? [low[0] + 1, 0, 0] : n === 2 ? [low[0], low[1] + 1, 0] : [low[0], low[1], low[2] + 1]);
  const within = (lo: Version, hi: Version): Comparator => (v) => compare(v, lo) >= 0 && compare(v, hi) < 0;
  switch (op) {
    case '=':
      return within(low, past(given.length));
    case '>=':
      return (v) => compare(v, low) >= 0;
    case '>':
      return (v) => compare(v, past(given.length)) >= 0;
    case '<':
      return (v) => compare(v, low) < 0;
    case '<=':
      return (v) => compare(v, past(given.length)) < 0;
    case '~':
      return within(low, past(Math.min(given.length, 2)));
    default: {
      // ^: the leftmost non-zero part stays fixed (^20.19.0 is >=20.19.0 <21.0.0; ^0.2.3 is <0.3.0).
      const fixed = low[0] > 0 || given.length <= 1 ? 1 : low[1] > 0 || given.length === 2 ? 2 : 3;
      return within(low, past(Math.min(given.length, fixed)));
    }
  }
}

/** True when `version` (e.g. "24.22.3" or "v24.22.3") is in `range` (e.g. "^20.19.0 || >=22.12.0"). */
export function satisfies(version: string, range: string): boolean {
  const v = parseVersion(version);
  return range.split('||').some((set) => {
    // ">= 10.x" is one comparator: join an operator to the version after it.
    const tokens = set.trim().replace(/([<>=^~]+)\s+/g, '$1').split(/\s+/).filter(Boolean);
    // Every token is read before any is tested, so an unreadable one throws whatever the version.
    return tokens.map((token) => comparator(token, range)).every((test) => test(v));
  });
}

/** The lowest release in each `^M.m.p` alternative of a range written as this project writes its own. */
export function caretFloors(range: string): Version[] {
  return range.split('||').map((alt) => {
    const m = /^\^(\d+\.\d+\.\d+)$/.exec(alt.trim());
    if (!m) throw new Error(`engines range "${range}": write it as ^MAJOR.MINOR.PATCH alternatives joined by ||`);
    return parseVersion(m[1]!);
  });
}
