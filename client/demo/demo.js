// The demo page: subscribes with the hub's own client library, publishes over POST /publish, and
// polls /demo/stats for the hub's figures. Plain ES module, no build step. Everything shown goes
// through textContent, never innerHTML: payloads are untrusted.
import { subscribe } from '/client/ssehub.js';

/** The event table keeps this many rows; older ones are dropped. */
const MAX_ROWS = 200;
/** How often the hub's figures are fetched; one request in flight at a time. */
const STATS_EVERY_MS = 1000;
/** Form values survive a reload (with the subscription's position, kept by the client). */
const FORM_KEY = 'ssehub-demo:form';

const $ = (id) => document.getElementById(id);
const words = (text) => text.split(/[\s,]+/).filter(Boolean);
const now = () => new Date().toTimeString().slice(0, 8);

let subscription;
const listening = new Set();

function showState(state) {
  $('state').textContent = state;
  $('state').dataset.state = state;
}

function addRow(cells, kind, id) {
  const row = document.createElement('tr');
  row.className = kind;
  row.dataset.id = id;
  row.dataset.type = cells[2];
  for (const text of cells) {
    const cell = document.createElement('td');
    cell.textContent = text;
    row.append(cell);
  }
  const body = $('events').tBodies[0];
  body.prepend(row);
  while (body.rows.length > MAX_ROWS) body.lastElementChild.remove();
  $('position').textContent = subscription?.lastEventId || '–';
}

function listen(type) {
  if (listening.has(type)) return;
  listening.add(type);
  subscription.on(type, (data, meta) => addRow([now(), meta.id, meta.type, data], 'event', meta.id));
}

function start() {
  subscription?.close();
  listening.clear();
  const topics = words($('topics').value);
  const types = words($('types').value);
  sessionStorage.setItem(FORM_KEY, JSON.stringify({ topics: topics.join(' '), types: types.join(' ') }));
  subscription = subscribe({
    topics,
    persist: $('persist').checked,
    onState: showState,
    onReset: (reset) => addRow([now(), reset.id, 'hub.reset', `history gone (${reset.reason}) after ${reset.lastEventId}: reload your state`], 'reset', reset.id),
    onError: (error) => addRow([now(), '', 'error', String(error)], 'error', ''),
  });
  showState(subscription.state);
  for (const type of ['message', ...types]) listen(type);
  $('snippet').textContent = snippet(topics, types[0] ?? 'message');
}

function snippet(topics, type) {
  return [
    `<script type="module">`,
    `  import { subscribe } from '${location.origin}/client/ssehub.js';`,
    `  const hub = subscribe({ url: '${location.origin}', topics: ${JSON.stringify(topics)}, json: true });`,
    `  hub.on('${type}', (data, { id }) => console.log(id, data));`,
    `</script>`,
  ].join('\n');
}

async function publish(event) {
  event.preventDefault();
  const topic = $('publish-topic').value.trim();
  const type = $('publish-type').value.trim();
  // A type this page does not listen for yet would arrive unseen: listen first.
  if (type && subscription && !listening.has(type)) {
    listen(type);
    $('types').value = [...listening].filter((t) => t !== 'message').join(' ');
  }
  const query = new URLSearchParams({ topic });
  if (type) query.set('event', type);
  const result = $('publish-result');
  try {
    const res = await fetch(`/publish?${query}`, { method: 'POST', body: $('publish-data').value });
    const body = await res.json();
    result.textContent = res.ok ? `published${body.id ? ` as ${body.id}` : ''}` : `${res.status}: ${body.error}`;
    result.className = res.ok ? 'ok' : 'bad';
  } catch (error) {
    result.textContent = String(error);
    result.className = 'bad';
  }
}

let previous;
async function pollStats() {
  try {
    const res = await fetch('/demo/stats', { cache: 'no-store' });
    const stats = await res.json();
    const at = performance.now();
    $('fig-connections').textContent = stats.connections;
    $('fig-subscriptions').textContent = stats.busSubscriptions;
    $('fig-delivered').textContent = stats.eventsDelivered;
    $('fig-bus').textContent = `${stats.bus}${stats.busConnected ? '' : ' (down)'}`;
    if (previous) {
      const seconds = (at - previous.at) / 1000;
      const rate = (field) => ((stats[field] - previous.stats[field]) / seconds).toFixed(1);
      $('fig-published-rate').textContent = rate('eventsPublished');
      $('fig-delivered-rate').textContent = rate('eventsDelivered');
    }
    previous = { at, stats };
  } catch {
    for (const id of ['fig-connections', 'fig-subscriptions', 'fig-published-rate', 'fig-delivered-rate']) $(id).textContent = '–';
    previous = undefined;
  }
  setTimeout(pollStats, STATS_EVERY_MS);
}

const saved = JSON.parse(sessionStorage.getItem(FORM_KEY) ?? 'null');
if (saved) {
  $('topics').value = saved.topics;
  $('types').value = saved.types;
}
$('subscribe-form').addEventListener('submit', (event) => {
  event.preventDefault();
  start();
});
$('close').addEventListener('click', () => subscription?.close());
$('publish-form').addEventListener('submit', publish);
start();
pollStats();
