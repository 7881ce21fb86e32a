// The demo page: subscribes with the hub's own client library, publishes over POST /publish, and
// polls /demo/stats for the hub's figures. Plain ES module, no build step. Everything shown goes
// through textContent, never innerHTML: payloads are untrusted. With the hub's auth on, the Token
// field's JWT is used both ways; a refused stream is explained, not left "reconnecting".
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
/** What `subscription` was opened with. */
let subscribed = { topics: [], token: '' };
const listening = new Set();

function showState(state) {
  $('state').textContent = state;
  $('state').dataset.state = state;
  // hub.open carries the position: show it before any event arrives.
  showPosition();
  showSharing();
  if (state === 'open') showRefusal(undefined);
}

function showPosition() {
  $('position').textContent = subscription?.lastEventId || '–';
}

/** How this tab's connection is held: every tab of this origin that uses the client shares one. */
function showSharing() {
  const sharing = subscription?.sharing;
  const how = { worker: 'a SharedWorker', tab: 'one tab for all (Web Locks)' };
  $('sharing').textContent = !sharing || subscription.state === 'closed' ? '–'
    : sharing.via === 'none' ? "this tab's own connection"
    : `1 connection shared by ${sharing.tabs} tab${sharing.tabs === 1 ? '' : 's'}, held by ${how[sharing.via]}`;
}

/** What to do about a refusal, by status (docs/security.md has the codes). */
function advice(status) {
  if (status === 401) return 'Paste a token in the Token field, then Subscribe.';
  if (status === 403) return 'The token does not grant these topics: subscribe to topics it grants, or use another token.';
  return 'The hub is busy or restarting.';
}

function showRefusal(refusal) {
  const note = $('refusal');
  note.hidden = !refusal;
  if (!refusal) return;
  note.dataset.status = refusal.status;
  const why = [refusal.code, refusal.message].filter(Boolean).join(': ');
  note.textContent = `The hub refused this page's stream with ${refusal.status}${why ? ` (${why})` : ''}. ${advice(refusal.status)} The page keeps retrying.`;
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
  showPosition();
}

function listen(type) {
  if (listening.has(type)) return;
  listening.add(type);
  subscription.on(type, (data, meta) => addRow([now(), meta.id, meta.type, data], 'event', meta.id));
}

function start() {
  subscription?.close();
  listening.clear();
  showRefusal(undefined);
  const topics = words($('topics').value);
  const types = words($('types').value);
  // Read once: a new token takes effect with the next Subscribe, as the form says.
  const token = $('token').value.trim();
  // sessionStorage is this tab's only: the token goes when the tab closes.
  sessionStorage.setItem(FORM_KEY, JSON.stringify({ topics: topics.join(' '), types: types.join(' '), token }));
  subscribed = { topics, token };
  subscription = subscribe({
    topics,
    persist: $('persist').checked,
    token: token ? () => token : undefined,
    onState: showState,
    onRefused: showRefusal,
    onReset: (reset) => addRow([now(), reset.id, 'hub.reset', `history gone (${reset.reason}) after ${reset.lastEventId}: reload your state`], 'reset', reset.id),
    onError: (error) => addRow([now(), '', 'error', String(error)], 'error', ''),
  });
  showState(subscription.state);
  for (const type of ['message', ...types]) listen(type);
  showSnippet();
}

/** The snippet subscribes as this page does and listens for the type the Publish form sends. */
function showSnippet() {
  const type = $('publish-type').value.trim() || 'message';
  const { topics, token } = subscribed;
  $('snippet').textContent = [
    `<script type="module">`,
    `  import { subscribe } from '${location.origin}/client/ssehub.js';`,
    ...(token ? [`  const token = ${JSON.stringify(token)}; // this demo's: in your page, fetch a fresh one from your backend`] : []),
    `  const hub = subscribe({ url: '${location.origin}', topics: ${JSON.stringify(topics)}${token ? ', token: () => token' : ''} });`,
    `  hub.on(${JSON.stringify(type)}, (data, { id }) => console.log(id, data));`,
    `</script>`,
  ].join('\n');
}

/** Whether the subscription pattern covers the topic, as the hub matches them (NATS `*` and `>`). */
function covers(pattern, topic) {
  const want = pattern.split('.');
  const have = topic.split('.');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '>') return have.length > i;
    if (i >= have.length || (want[i] !== '*' && want[i] !== have[i])) return false;
  }
  return want.length === have.length;
}

/** Why an event published to `topic` will not show in the table, or '' when it will. */
function notShownHere(topic) {
  if (!subscription || subscription.state === 'closed') return ' (not shown here: this page\'s subscription is closed; Subscribe to see events)';
  if (subscribed.topics.some((pattern) => covers(pattern, topic))) return '';
  return ` (not shown here: this page subscribes to ${subscribed.topics.join(' ')}; add ${topic} under Subscribe to see it)`;
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
  const token = $('token').value.trim();
  try {
    const res = await fetch(`/publish?${query}`, {
      method: 'POST',
      body: $('publish-data').value,
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
    const body = await res.json();
    result.textContent = res.ok ? `published${body.id ? ` as ${body.id}` : ''}${notShownHere(topic)}` : `${res.status}: ${body.error}`;
    result.className = res.ok ? 'ok' : 'bad';
  } catch (error) {
    result.textContent = String(error);
    result.className = 'bad';
  }
}

let previous;
async function pollStats() {
  showSharing();
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
  $('token').value = saved.token ?? '';
}
$('subscribe-form').addEventListener('submit', (event) => {
  event.preventDefault();
  start();
});
$('close').addEventListener('click', () => subscription?.close());
$('publish-form').addEventListener('submit', publish);
$('publish-type').addEventListener('input', showSnippet);
start();
pollStats();
