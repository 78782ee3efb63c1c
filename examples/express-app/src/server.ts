import { createApp, type ExampleApp } from './app';
import { portFrom, startupFailure } from './startup';

// A failure to start prints one block (what went wrong, what to do) and exits 1: never a stack
// trace, never "listening" when another program has the port.
const port = portFrom(process.env.PORT);
if (typeof port === 'string') stop(port);

let example: ExampleApp;
try {
  example = createApp(process.env);
} catch (error) {
  stop(startupFailure(error, port));
}
const { app, caches, close } = example;
const cache = caches.store();
const sessions = caches.sessionStore();

// Express 5 hands a listen error (EADDRINUSE, EACCES) to this callback instead of throwing it.
const server = app.listen(port, (error?: Error) => {
  if (error) {
    close().finally(() => stop(startupFailure(error, port)));
    return;
  }
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

function stop(text: string): never {
  console.error(text);
  process.exit(1);
}
