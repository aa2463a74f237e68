// The package's version, read from its package.json (one level above src/ and dist/).
import { createRequire } from 'node:module';

export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
