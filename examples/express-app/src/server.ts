import { createApp } from './app';

const port = Number(process.env.PORT ?? 3000);
const { app, caches, close } = createApp(process.env);
const cache = caches.store();
const sessions = caches.sessionStore();

const server = app.listen(port, () => {
  console.log(`larder example listening on http://localhost:${port}`);
  console.log(`cache store: ${cache.name}, session store: ${sessions.name} (GET /healthz for drivers and latency)`);
});

const shutdown = () => {
  server.close(() => {
    close().finally(() => process.exit(0));
  });
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
