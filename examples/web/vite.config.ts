import react from '@vitejs/plugin-react';
import { defineConfig, type ProxyOptions } from 'vite';

/**
 * The dev server (and `vite preview`) proxies /graphql — HTTP, SSE and WebSocket — to cairn at
 * CAIRN_URL, so the app talks to its own origin: no CORS to configure in development. The proxy
 * presents itself as cairn's own origin (`Origin` rewritten), since cairn refuses WebSockets
 * from pages of another origin unless CAIRN_CORS_ORIGINS names it. A build served elsewhere sets
 * VITE_CAIRN_URL to cairn's /graphql, and cairn's CAIRN_CORS_ORIGINS to that page's origin.
 */
const target = process.env.CAIRN_URL ?? 'http://localhost:4000';
const origin = new URL(target).origin;
const graphql: ProxyOptions = {
  target,
  ws: true,
  changeOrigin: true,
  configure: (proxy) => {
    proxy.on('proxyReq', (request) => request.setHeader('origin', origin));
    proxy.on('proxyReqWs', (request) => request.setHeader('origin', origin));
  },
};
const proxy = { '/graphql': graphql };

export default defineConfig({
  plugins: [react()],
  server: { proxy },
  preview: { proxy },
});
