import { z } from 'zod';

// zod probes for `new Function` to compile faster parsers; the page's CSP forbids eval, and the
// refused probe would show up as a policy violation on every start.
z.config({ jitless: true });
