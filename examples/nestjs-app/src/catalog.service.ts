import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Inject, Injectable } from '@nestjs/common';
import type { Cache } from 'cache-manager';

/** A product as the "database" returns it. */
export interface Product {
  id: number;
  name: string;
  loadedAt: string;
}

/** The app's data access: slow loads, counted so the example (and its test) can show what the cache saved. */
@Injectable()
export class CatalogService {
  /** Loads from the "database" since start, per kind. */
  readonly loads = { product: 0, report: 0 };

  // @Inject names the token: the example runs under tsx/esbuild, which emit no design:paramtypes metadata.
  constructor(@Inject(CACHE_MANAGER) private readonly cache: Cache) {}

  /** One product, straight from the "database" (the controller's CacheInterceptor caches the response). */
  async product(id: number): Promise<Product> {
    this.loads.product += 1;
    return { id, name: `product ${id}`, loadedAt: new Date().toISOString() };
  }

  /** A report built at most once per minute across every instance: cache-manager's wrap over larder. */
  report(): Promise<{ products: number; builtAt: Date }> {
    return this.cache.wrap(
      'report',
      async () => {
        this.loads.report += 1;
        return { products: 3, builtAt: new Date() };
      },
      60_000,
    );
  }
}
