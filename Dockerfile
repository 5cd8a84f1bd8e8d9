# Tollgate: build on the full Node 22 LTS image (better-sqlite3 compiles its native module there when no prebuilt
# binary fits), run on the slim one with production dependencies only. Node 22 or 24: some runtime dependencies
# (@nestjs/common's file-type, @fastify/static's content-disposition) require Node 22 or later.
FROM node:22-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY libs ./libs
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The dashboard's static files are served from src/web/assets (the build does not copy them).
COPY --from=build /app/src/web/assets ./src/web/assets
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# A 64 MB young-generation semi-space: fewer scavenges per call (measured: +10 to 17 % requests/s at 64 connections).
CMD ["node", "--max-semi-space-size=64", "dist/src/main.js"]
