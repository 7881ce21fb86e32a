// The admin charts page: polls /admin/stats, keeps the last readings of each node in this page
// (bounded by the server's historyReadings), and draws plain SVG lines. No library, no build step.
// Counters arrive cumulative; rates and latency percentiles are differences between readings here.

const SVG = 'http://www.w3.org/2000/svg';
const LATENCY_WINDOW_MS = 60_000;
const NODE_COLORS = ['#2f7ed8', '#e4572e', '#17a589', '#a569bd', '#f1c40f', '#5d6d7e'];
const PERCENTILES = [
  { q: 0.5, name: 'p50', color: '#17a589' },
  { q: 0.9, name: 'p90', color: '#f39c12' },
  { q: 0.99, name: 'p99', color: '#e4572e' },
];
const TOKEN_KEY = 'ssehub-admin-token';

/** node → its readings, oldest first. */
const history = new Map();
let limit = 300;
let pollMs = 1000;
let timer;

const $ = (id) => document.getElementById(id);
const figure = (name) => document.querySelector(`[data-figure="${name}"]`);

function nodeColor(node) {
  return NODE_COLORS[[...history.keys()].indexOf(node) % NODE_COLORS.length];
}

async function poll() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  try {
    const res = await fetch('/admin/stats', { headers: token ? { authorization: `Bearer ${token}` } : {}, cache: 'no-store' });
    if (res.status === 401) {
      $('token-form').hidden = false;
      status(`the admin listener wants its token (${(await res.json()).error})`, true);
      return;
    }
    if (!res.ok) throw new Error(`/admin/stats answered ${res.status}`);
    take(await res.json());
    status(`updated ${new Date().toLocaleTimeString()}`);
  } catch (err) {
    status(`no answer from the hub: ${err.message}`, true);
  } finally {
    timer = setTimeout(poll, pollMs);
  }
}

function status(text, error = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', error);
}

function take(stats) {
  limit = stats.historyReadings;
  pollMs = stats.pollMs;
  $('bus').textContent = `${stats.bus} bus · ${stats.nodes.length} node${stats.nodes.length === 1 ? '' : 's'}`;
  for (const reading of stats.nodes) {
    const readings = history.get(reading.node) ?? [];
    readings.push({ at: stats.at, ...reading });
    if (readings.length > limit) readings.splice(0, readings.length - limit);
    history.set(reading.node, readings);
  }
  draw(stats.at);
}

/** Per-second rate of `field` between consecutive readings; a counter that went down is a restart: no point. */
function rates(readings, field) {
  const points = [];
  for (let i = 1; i < readings.length; i++) {
    const a = readings[i - 1];
    const b = readings[i];
    const dt = (b.at - a.at) / 1000;
    if (dt > 0 && b[field] >= a[field]) points.push([b.at, (b[field] - a[field]) / dt]);
  }
  return points;
}

/** Prometheus's histogram_quantile over the bucket differences: linear within the bucket the rank falls in. */
function quantile(q, le, counts, total) {
  if (total <= 0) return undefined;
  const rank = q * total;
  let below = 0;
  let lower = 0;
  for (let i = 0; i < le.length; i++) {
    if (counts[i] >= rank) return lower + ((le[i] - lower) * (rank - below)) / Math.max(counts[i] - below, 1);
    below = counts[i];
    lower = le[i];
  }
  return lower; // in the +Inf bucket: at least the largest bound
}

/** For each reading, the percentiles (ms) of what was observed in the LATENCY_WINDOW_MS before it. */
function latencyLines(readings) {
  const lines = PERCENTILES.map(() => []);
  let from = 0;
  for (let i = 1; i < readings.length; i++) {
    const now = readings[i];
    while (from < i - 1 && readings[from + 1].at <= now.at - LATENCY_WINDOW_MS) from++;
    const then = readings[from];
    const total = now.latency.count - then.latency.count;
    if (total < 0) continue;
    const counts = now.latency.counts.map((c, k) => c - (then.latency.counts[k] ?? 0));
    PERCENTILES.forEach(({ q }, k) => {
      const value = quantile(q, now.latency.le, counts, total);
      if (value !== undefined) lines[k].push([now.at, value * 1000]);
    });
  }
  return lines;
}

function draw(now) {
  const streams = [];
  const ins = [];
  const outs = [];
  const latency = [];
  const closes = [];
  for (const [node, readings] of history) {
    const color = nodeColor(node);
    streams.push({ color, points: readings.map((r) => [r.at, r.streams]) });
    ins.push({ color, points: rates(readings, 'received') });
    outs.push({ color, points: rates(readings, 'delivered') });
    latencyLines(readings).forEach((points, k) => latency.push({ color: PERCENTILES[k].color, dash: dashFor(node), points }));
    closes.push({ color, points: readings.map((r) => [r.at, r.slowConsumerCloses]) });
    closes.push({ color, dash: '4 3', points: readings.map((r) => [r.at, r.resets]) });
  }
  const span = [now - limit * pollMs, now];
  chart($('chart-streams'), streams, span);
  chart($('chart-in'), ins, span);
  chart($('chart-out'), outs, span);
  chart($('chart-latency'), latency, span);
  chart($('chart-closes'), closes, span);
  figures();
  legend();
}

function dashFor(node) {
  return ['', '5 3', '2 2', '8 3 2 3'][[...history.keys()].indexOf(node) % 4];
}

/** The newest reading summed over the nodes (streams, totals), and the newest rates. */
function figures() {
  const sum = (pick) => [...history.values()].reduce((total, readings) => total + (pick(readings) ?? 0), 0);
  const last = (readings) => readings[readings.length - 1];
  const lastRate = (field) => (readings) => rates(readings.slice(-2), field)[0]?.[1];
  figure('streams').textContent = sum((r) => last(r).streams).toFixed(0);
  figure('inRate').textContent = sum(lastRate('received')).toFixed(1);
  figure('outRate').textContent = sum(lastRate('delivered')).toFixed(1);
  figure('delivered').textContent = sum((r) => last(r).delivered).toFixed(0);
  figure('slow').textContent = sum((r) => last(r).slowConsumerCloses).toFixed(0);
  figure('resets').textContent = sum((r) => last(r).resets).toFixed(0);
  const p99 = Math.max(...[...history.values()].map((r) => latencyLines(r.slice(-(LATENCY_WINDOW_MS / pollMs) - 1))[2].at(-1)?.[1] ?? 0));
  figure('p99').textContent = `${p99.toFixed(p99 < 1 ? 2 : 1)} ms`;
}

function legend() {
  const items = [...history.keys()].map((node) => [`node ${node}`, nodeColor(node)]);
  items.push(...PERCENTILES.map(({ name, color }) => [`latency ${name}`, color]), ['closes: solid = slow consumer, dashed = reset', 'transparent']);
  $('legend').replaceChildren(
    ...items.map(([text, color]) => {
      const li = document.createElement('li');
      li.style.setProperty('--swatch', color);
      li.textContent = text;
      return li;
    }),
  );
}

/** Lines on a time axis `span` (epoch ms), a y axis from 0 in four round steps, labelled. */
function chart(svg, series, [from, to]) {
  const width = svg.clientWidth || 600;
  const height = svg.clientHeight || 180;
  const left = 44;
  const bottom = 16;
  const top = 6;
  // Four grid steps of a round size (the axis reaches at least 1), so every label is a value the line can be read against.
  const step = roundUp(Math.max(1, ...series.flatMap((s) => s.points.map(([, v]) => v))) / 4);
  const max = step * 4;
  const x = (t) => left + ((t - from) / (to - from)) * (width - left - 4);
  const y = (v) => top + (1 - v / max) * (height - top - bottom);
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const parts = [];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    parts.push(el('line', { class: 'grid', x1: left, x2: width - 4, y1: y(v), y2: y(v) }));
    parts.push(el('text', { class: 'tick', x: left - 4, y: y(v) + 3, 'text-anchor': 'end' }, tick(v, step)));
  }
  for (const minutes of [5, 4, 3, 2, 1, 0]) {
    const t = to - minutes * 60_000;
    if (t >= from) parts.push(el('text', { class: 'tick', x: x(t), y: height - 3, 'text-anchor': minutes === 0 ? 'end' : 'middle' }, minutes === 0 ? 'now' : `-${minutes} min`));
  }
  for (const { color, dash, points } of series) {
    if (points.length === 0) continue;
    parts.push(el('polyline', { stroke: color, 'stroke-dasharray': dash ?? '', points: points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ') }));
  }
  svg.replaceChildren(...parts);
}

/** A grid label: as many decimals as the step needs. */
function tick(v, step) {
  return v.toFixed(step >= 1 && Number.isInteger(step) ? 0 : step >= 0.1 ? 2 : 3);
}

/** 1, 2, 2.5 or 5 times a power of ten, at least `v`. */
function roundUp(v) {
  const power = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= v) return step * power;
  return 10 * power;
}

function el(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
  $('token-form').hidden = true;
  clearTimeout(timer);
  void poll();
});

void poll();
