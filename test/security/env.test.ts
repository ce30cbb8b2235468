/** The attack matrix's environment cells (test/security/matrix.ts, implemented in ./cells/env.ts) on every engine. */
import { envCells } from './cells/env.ts';
import { registerCells } from './register.ts';

registerCells('env', envCells);
