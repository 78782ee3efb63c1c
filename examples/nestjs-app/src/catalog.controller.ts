import { CacheInterceptor, CacheTTL } from '@nestjs/cache-manager';
import { Controller, Get, Inject, Param, ParseIntPipe, UseInterceptors } from '@nestjs/common';
import { CatalogService, type Product } from './catalog.service';

/** HTTP routes: a response-cached product route, a wrap-cached report, and uncached counters. */
@Controller()
export class CatalogController {
  constructor(@Inject(CatalogService) private readonly catalog: CatalogService) {}

  /** Cached by Nest's CacheInterceptor under the request URL, for 30 s. */
  @Get('products/:id')
  @UseInterceptors(CacheInterceptor)
  @CacheTTL(30_000)
  product(@Param('id', ParseIntPipe) id: number): Promise<Product> {
    return this.catalog.product(id);
  }

  /** Built through CACHE_MANAGER.wrap in the service. */
  @Get('report')
  async report(): Promise<{ products: number; builtAt: string }> {
    const report = await this.catalog.report();
    return { products: report.products, builtAt: report.builtAt.toISOString() };
  }

  /** How often the "database" was asked (not cached). */
  @Get('stats')
  stats(): { loads: CatalogService['loads'] } {
    return { loads: this.catalog.loads };
  }
}
