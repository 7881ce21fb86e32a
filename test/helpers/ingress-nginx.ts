/**
 * Renders the nginx directives that ingress-nginx generates for the annotations in
 * deploy/ingress-nginx/ingress.yaml, so the nginx suite tests the manifest we ship, not a copy.
 * Only annotations we know how to render are accepted: a new one fails here until it is mapped.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const INGRESS_FILE = fileURLToPath(new URL('../../deploy/ingress-nginx/ingress.yaml', import.meta.url));
const PREFIX = 'nginx.ingress.kubernetes.io/';

/** `nginx.ingress.kubernetes.io/<name>: "<value>"` lines of the Ingress, by name. */
export function readIngressAnnotations(file = INGRESS_FILE): Map<string, string> {
  const annotations = new Map<string, string>();
  for (const match of readFileSync(file, 'utf8').matchAll(/^\s+nginx\.ingress\.kubernetes\.io\/([\w-]+):\s*"([^"]*)"\s*$/gm)) {
    annotations.set(match[1]!, match[2]!);
  }
  return annotations;
}

/**
 * The Ingress's paths as the nginx location matchers ingress-nginx renders for them: `Exact` is
 * `= /p`; `Prefix` matches whole path elements, so `/p` is `= /p` and `/p/` (not `/pq`).
 */
export function ingressPaths(file = INGRESS_FILE): string[] {
  const paths = [...readFileSync(file, 'utf8').matchAll(/^\s+- path: (\S+)\n\s+pathType: (\w+)\s*$/gm)];
  if (paths.length === 0) throw new Error(`${file}: no "- path:" followed by "pathType:"`);
  return paths.flatMap(([, path, type]) => {
    if (type === 'Exact') return [`= ${path}`];
    if (type === 'Prefix') return path!.endsWith('/') ? [path!] : [`= ${path}`, `${path}/`];
    throw new Error(`${file}: pathType ${type} of ${path} has no nginx rendering in test/helpers/ingress-nginx.ts`);
  });
}

// Annotation -> the location directive ingress-nginx's template (nginx.tmpl) writes for it.
// Timeouts are whole seconds there.
const RENDER: Readonly<Record<string, (value: string) => string>> = {
  'proxy-buffering': (v) => `proxy_buffering ${v};`,
  'proxy-request-buffering': (v) => `proxy_request_buffering ${v};`,
  'proxy-http-version': (v) => `proxy_http_version ${v};`,
  'proxy-read-timeout': (v) => `proxy_read_timeout ${v}s;`,
  'proxy-send-timeout': (v) => `proxy_send_timeout ${v}s;`,
  'proxy-connect-timeout': (v) => `proxy_connect_timeout ${v}s;`,
  'proxy-next-upstream': (v) => `proxy_next_upstream ${v};`,
  'proxy-next-upstream-tries': (v) => `proxy_next_upstream_tries ${v};`,
  'proxy-next-upstream-timeout': (v) => `proxy_next_upstream_timeout ${v}s;`,
};

/**
 * Location directives for the Ingress's annotations, with `overrides` (annotation name -> value)
 * applied first, e.g. a 1 s read timeout to test heartbeats in seconds rather than an hour.
 */
export function ingressLocationDirectives(overrides: Record<string, string> = {}): string[] {
  const annotations = readIngressAnnotations();
  for (const [name, value] of Object.entries(overrides)) annotations.set(name, value);
  const directives: string[] = [];
  for (const [name, value] of annotations) {
    const render = RENDER[name];
    if (!render) throw new Error(`${INGRESS_FILE}: annotation ${PREFIX}${name} has no nginx rendering in test/helpers/ingress-nginx.ts`);
    directives.push(render(value));
  }
  // What ingress-nginx's template always adds for a proxied location with upstream keep-alive on.
  directives.push('proxy_set_header Connection "";', 'proxy_set_header Host $host;', 'proxy_set_header X-Forwarded-For $remote_addr;');
  return directives;
}

/**
 * ingress-nginx's `use-gzip: "true"` with its default `gzip-types` (ConfigMap): the event stream's
 * type is not among them, so streams are never compressed (compression would buffer them).
 */
export const INGRESS_NGINX_GZIP = [
  'gzip on;',
  'gzip_comp_level 1;',
  'gzip_http_version 1.1;',
  'gzip_min_length 256;',
  'gzip_proxied any;',
  'gzip_vary on;',
  'gzip_types application/atom+xml application/javascript application/x-javascript application/json application/rss+xml application/vnd.ms-fontobject application/x-font-ttf application/x-web-app-manifest+json application/xhtml+xml application/xml font/opentype image/svg+xml image/x-icon text/css text/javascript text/plain text/x-component;',
];
