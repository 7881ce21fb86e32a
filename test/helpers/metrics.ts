/**
 * The hub's /metrics read as Prometheus text exposition (version 0.0.4), so tests compare a sample's
 * number by metric name and exact label set instead of matching ad-hoc regexes over the text.
 */
import { REQUEST_TIMEOUT_MS, get } from './http.js';
import { rawRequest } from './raw-http.js';

export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface ParsedMetrics {
  readonly samples: readonly MetricSample[];
  /** Metric family name → its `# TYPE` (counter, gauge, histogram, summary, untyped). */
  readonly types: ReadonlyMap<string, string>;
}

// Greedy up to the last `}`: a label value may itself hold `}` or spaces. An optional timestamp follows the value.
const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+-?\d+)?$/;
const LABEL_PAIR = /[ \t]*([a-zA-Z_][a-zA-Z0-9_]*)[ \t]*=[ \t]*"((?:[^"\\]|\\.)*)"[ \t]*(?:,|$)/y;
const TYPE_LINE = /^#[ \t]+TYPE[ \t]+(\S+)[ \t]+(\S+)/;
// Prometheus reads values with Go's ParseFloat, which takes these in any case (prom-client writes NaN as "Nan").
const SPECIAL_VALUES: ReadonlyMap<string, number> = new Map([['+inf', Infinity], ['inf', Infinity], ['-inf', -Infinity], ['nan', NaN]]);

/** Every sample and `# TYPE` in the text; throws on a line that is neither, so a malformed exposition fails the test. */
export function parseMetrics(text: string): ParsedMetrics {
  const samples: MetricSample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const type = TYPE_LINE.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      continue;
    }
    const sample = SAMPLE_LINE.exec(line);
    if (!sample) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    samples.push({ name: sample[1]!, labels: parseLabels(sample[2] ?? '', line), value: parseValue(sample[3]!, line) });
  }
  return { samples, types };
}

/**
 * The value of the sample named `name` whose labels are exactly `labels` (none by default), or
 * undefined when the text has no such sample.
 */
export function metricValue(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  const wanted = Object.entries(labels);
  return parseMetrics(text).samples.find(
    (s) => s.name === name && Object.keys(s.labels).length === wanted.length && wanted.every(([key, value]) => s.labels[key] === value),
  )?.value;
}

/** GET `${hubUrl}/metrics`; throws unless the hub answered 200. */
export async function scrapeMetrics(hubUrl: string): Promise<string> {
  const res = await get(`${hubUrl}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  return res.text();
}

/**
 * GET /metrics on a TCP connection of its own, closed after the answer: with HUB_WORKERS > 1 the
 * primary hands each new connection to the next worker, so consecutive scrapes reach different
 * workers (a kept-alive connection would stay with one). Throws unless the hub answered 200.
 */
export async function scrapeOnNewConnection(port: number, timeoutMs = REQUEST_TIMEOUT_MS): Promise<string> {
  const answer = await rawRequest(port, 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', timeoutMs);
  if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}: ${answer.body}`);
  return answer.body;
}

function parseLabels(block: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL_PAIR.lastIndex = 0;
  while (LABEL_PAIR.lastIndex < block.length) {
    const at = LABEL_PAIR.lastIndex;
    const pair = LABEL_PAIR.exec(block);
    if (!pair || LABEL_PAIR.lastIndex === at) throw new Error(`bad labels in Prometheus sample line: ${JSON.stringify(line)}`);
    labels[pair[1]!] = pair[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

function parseValue(text: string, line: string): number {
  const special = SPECIAL_VALUES.get(text.toLowerCase());
  if (special !== undefined) return special;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`bad value in Prometheus sample line: ${JSON.stringify(line)}`);
  return value;
}
