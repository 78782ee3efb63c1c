import manifest from '../package.json' with { type: 'json' };

/** This package's version (`larder --version`), from its package.json (inlined by the build). */
export const VERSION: string = manifest.version;
