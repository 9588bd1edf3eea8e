# cairn's server. With DATABASE_URL (docker-compose.yml sets it) it uses that PostgreSQL; without
# it, it starts an embedded PostgreSQL under /app/.data (mount a volume there to keep it).
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000

# Dependencies first, so a change in src/ reuses this layer. tsx runs the TypeScript sources,
# so no build step and no devDependencies.
# patches/ holds fixes to dependencies, applied by the postinstall script (patch-package).
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json ./
COPY drizzle ./drizzle
COPY src ./src
RUN mkdir -p .data && chown node:node .data

USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["npm", "start"]
