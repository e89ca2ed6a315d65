# One image for every service: the SERVICES env var picks which Moleculer services a
# process runs (gateway, auth, ...). TypeScript is run directly by Node 24's type
# stripping, so there is no build step: the runtime stage is the source plus the
# production node_modules.
#
# Keep the minor in step with the `node` devDependency in package.json.
ARG NODE_IMAGE=node:24.21-bookworm-slim

# --- deps: production dependencies only -------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
# --omit=dev keeps the `node` devDependency (and the test/lint tooling) out of the image.
# --ignore-scripts is safe: @node-rs/argon2 ships prebuilt optional native packages,
# and npm picks the one matching the build platform.
RUN npm ci --omit=dev --ignore-scripts \
 && npm cache clean --force

# --- runtime ----------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app

# The root filesystem can be mounted read-only. The app writes only to DATA_DIR, and
# only in standalone mode (no MONGO_URL): then mount a writable volume at /data. In
# distributed mode (MONGO_URL set) it writes nothing and needs no volume; give it a
# tmpfs at /tmp for anything the runtime itself might need.
ENV NODE_ENV=production \
    PORT=3000 \
    METRICS_PORT=9100 \
    DATA_DIR=/data

# Source and dependencies stay owned by root (read-only for the app user); only the
# data directory belongs to the `node` user (uid/gid 1000 in the official image).
RUN mkdir -p /data \
 && chown 1000:1000 /data
COPY --from=deps /app/node_modules ./node_modules
COPY package.json index.ts moleculer.config.ts ./
COPY services/ ./services/
COPY shared/ ./shared/

# Numeric so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 1000:1000

# 3000: gateway HTTP (PORT); 9100: /metrics, /live, /ready on every process (METRICS_PORT).
EXPOSE 3000 9100

# No curl in the slim image: use node's fetch. Exec form, so METRICS_PORT is read by node.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||9100)+'/live',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# Exec-form CMD: node is PID 1 and gets SIGTERM directly; the app's own handler must
# shut the broker down (there is no init to forward or default-handle signals).
STOPSIGNAL SIGTERM
CMD ["node", "index.ts"]
