/** The attack matrix's resource-exhaustion cells (test/security/matrix.ts, implemented in ./cells/res.ts). */
import { resCells } from './cells/res.ts';
import { registerCells } from './register.ts';

registerCells('res', resCells);
