// zod compiles a parser for each object schema with new Function() on its first use (its "JIT"), which no
// code cache can hold: a run like `get` spent a tenth of its time there. Interpreted, the same checks give
// the same results (zod's `jitless`, meant for hosts that forbid eval). Imported first by each script's
// entry (commands/cli.ts, commands/get/direct.ts), so that it is set before any schema is made.
import { z } from 'zod';

z.config({ jitless: true });
