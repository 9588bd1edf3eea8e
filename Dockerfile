# cairn's server, compiled. With DATABASE_URL (docker-compose.yml sets it) it uses that
# PostgreSQL; without it, it starts an embedded PostgreSQL under /app/.data (mount a volume there
# to keep it; one server per data directory).

# Build: type-checked, then bundled into dist/ by esbuild (needs the devDependencies).
FROM node:20-bookworm-slim AS build
WORKDIR /app
# patches/ holds fixes to dependencies, applied by the postinstall script (patch-package).
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# Run: production dependencies, the compiled server and the migrations it applies at start.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000

# Dependencies first, so a change in src/ reuses this layer.
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY drizzle ./drizzle
COPY --from=build /app/dist ./dist
RUN mkdir -p .data && chown node:node .data

USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself, not npm: `docker stop` sends SIGTERM to this process, and the server shuts down
# gracefully (npm in between would stop without waiting for it). The same image runs the
# scripts: `docker compose run --rm server node dist/cli/migrate.js`, or
# `node dist/cli/rebuild.js transaction_views`.
CMD ["node", "dist/main.js"]
