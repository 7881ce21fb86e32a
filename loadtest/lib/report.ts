/** How results are shown: one JSON line per run, a readable summary, and the side-by-side table. */
import type { CaseResult } from './run-case.js';

export function summary(r: CaseResult): string {
  const lines = [
    `case ${r.case} on ${r.target}: ${r.subscribers} subscribers over ${r.topics} topics`,
    `  connect ${r.connectMs} ms (${r.connectFailed} failed); published ${r.published} (${r.publishErrors} errors), ${r.publishedPerSec}/s`,
    `  delivered ${r.delivered} of ${r.expected}, lost ${r.lost}, duplicated ${r.duplicated}, resets ${r.resets}, broken ${r.broken}`,
    `  ${r.deliveredPerSec} delivered events/s; latency ms p50 ${r.latencyMs.p50} p90 ${r.latencyMs.p90} p99 ${r.latencyMs.p99} max ${r.latencyMs.max}`,
    `  server RSS KiB before ${r.rssKiB.before}, after connect ${r.rssKiB.afterConnect}, peak ${r.rssKiB.peak}; ${r.kibPerConnection} KiB per connection`,
    `  server CPU ${r.serverCpuMs} ms${r.peerCpuMs > 0 ? ` (of which ${r.peerCpuMs} ms nats-server/redis-server)` : ''} = ${r.cpuUsPerDelivered} µs per delivered event, ${r.cpuUsPerPublished} µs per published event`,
  ];
  if (r.catchUpMs !== undefined) lines.push(`  reconnect storm: all caught up ${r.catchUpMs} ms after the drop (${r.notCaughtUp} did not)`);
  for (const e of r.errors) lines.push(`  ! ${e}`);
  return lines.join('\n');
}

interface Figure {
  readonly label: string;
  readonly value: (r: CaseResult) => number | undefined;
}

/** The publish path: what a publisher gets, and what it costs the server. */
const PUBLISH_FIGURES: readonly Figure[] = [
  { label: 'published/s', value: (r) => r.publishedPerSec },
  { label: 'delivered/s', value: (r) => r.deliveredPerSec },
  { label: 'CPU µs/publish', value: (r) => r.cpuUsPerPublished },
  { label: 'p99 ms', value: (r) => r.latencyMs.p99 },
  { label: 'lost+dup', value: (r) => r.lost + r.duplicated },
  { label: 'errors', value: (r) => r.publishErrors },
];

/** The figures the side-by-side table compares, per case. */
const FIGURES: Readonly<Record<string, readonly Figure[]>> = {
  a: [
    { label: 'delivered/s', value: (r) => r.deliveredPerSec },
    { label: 'p99 ms', value: (r) => r.latencyMs.p99 },
    { label: 'CPU µs/event', value: (r) => r.cpuUsPerDelivered },
    { label: 'lost+dup', value: (r) => r.lost + r.duplicated },
  ],
  p: PUBLISH_FIGURES,
  pp: PUBLISH_FIGURES,
  d: [
    { label: 'KiB/conn', value: (r) => r.kibPerConnection },
    { label: 'connect ms', value: (r) => r.connectMs },
  ],
  e: [
    { label: 'catch-up ms', value: (r) => r.catchUpMs },
    { label: 'p99 ms', value: (r) => r.latencyMs.p99 },
    { label: 'lost+dup', value: (r) => r.lost + r.duplicated },
    { label: 'resets', value: (r) => r.resets },
  ],
};
const figuresFor = (id: string): readonly Figure[] => FIGURES[id] ?? FIGURES.a!;

/** Markdown table: each target's median figure per case, and its ratio to nchan's. */
export function comparisonTable(results: readonly CaseResult[], targets: readonly string[]): string {
  const rows = ['| case | figure | ' + targets.join(' | ') + ' | ' + targets.filter((t) => t !== 'nchan').map((t) => `${t}/nchan`).join(' | ') + ' |'];
  rows.push('|' + ' --- |'.repeat(2 + targets.length + targets.filter((t) => t !== 'nchan').length));
  for (const id of [...new Set(results.map((r) => r.case))]) {
    for (const figure of figuresFor(id)) {
      const medians = targets.map((t) => median(results.filter((r) => r.case === id && r.target === t).map(figure.value)));
      const nchan = medians[targets.indexOf('nchan')];
      const ratios = targets
        .map((t, i) => ({ t, v: medians[i] }))
        .filter(({ t }) => t !== 'nchan')
        .map(({ v }) => (v === undefined || nchan === undefined || nchan === 0 ? '–' : (v / nchan).toFixed(2)));
      rows.push(`| ${id} | ${figure.label} | ${medians.map((v) => (v === undefined ? '–' : String(v))).join(' | ')} | ${ratios.join(' | ')} |`);
    }
  }
  return rows.join('\n');
}

function median(values: ReadonlyArray<number | undefined>): number | undefined {
  const xs = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid] : (xs[mid - 1]! + xs[mid]!) / 2;
}
