# syntax=docker/dockerfile:1
#
# ssehub image:  docker build -t ssehub .
#                docker run --rm -p 8080:8080 ssehub          (docs/deploy.md has the rest)
#
# test/integration/container.test.ts replays these steps without a Docker engine: it copies the
# build context through .dockerignore, runs each RUN in a scratch directory per stage, starts the
# final CMD as PID 1 in its own PID namespace, probes it with the HEALTHCHECK and stops it with
# SIGTERM. A step it does not know how to replay safely fails that test: teach it, do not skip it.

# Debian slim (glibc), not Alpine (musl): Node's official builds and this project's tests run on
# glibc, musl's resolver differs on Kubernetes DNS search paths, and the size gap is ~40 MB.
# Node 24, an LTS line supported until April 2028 (Node 20 reached end of life in April 2026): CI runs
# the whole suite on Node 24 besides the machine's Node, and the container test replays this build and
# runs its CMD on Node 24, so the image ships the Node that was tested. package.json "engines" lists
# every line the project supports. Pin a digest (node:24-bookworm-slim@sha256:...) in your registry
# mirror for reproducible builds.
ARG NODE_IMAGE=node:24-bookworm-slim

# Production dependencies only: what the runtime stage copies.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

# Dev dependencies and the TypeScript compile: dist/ is all the runtime stage takes from here.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY client ./client
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Its "type": "module" makes Node load dist/*.js as ES modules.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The browser client (compiled) and the demo page, served by the hub at /client/ and /; the admin
# charts page, served on the admin listener at /admin.
COPY --from=build /app/client/dist ./client/dist
COPY --from=build /app/client/demo ./client/demo
COPY --from=build /app/client/admin ./client/admin
# Numeric, so Kubernetes runAsNonRoot can check it (uid 1000 is the image's "node" user). Files stay
# owned by root: the hub cannot change its own code, and it writes nothing (read-only root fs works).
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["node", "dist/healthcheck.js"]
# Exec form, node itself as PID 1 (no npm, no shell in between): SIGTERM reaches the hub, whose
# handler (src/main.ts) drains and exits. PID 1 ignores signals it has no handler for, which is why
# the hub installs its own; it starts no child processes, so there are no zombies to reap and no
# init (tini, docker run --init) is needed, though either works.
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "dist/main.js"]
