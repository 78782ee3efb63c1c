import { createNestApp } from './create-app';

const port = Number(process.env.PORT ?? 3000);
const { app, caches, close } = await createNestApp(process.env);
await app.listen(port);
console.log(`larder NestJS example on http://localhost:${port}/products/1 (store: ${caches.store().name})`);

const shutdown = () => {
  close().finally(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
