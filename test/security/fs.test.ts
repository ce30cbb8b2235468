/** The attack matrix's filesystem cells (test/security/matrix.ts, implemented in ./cells/fs.ts) on every engine. */
import { fsCells } from './cells/fs.ts';
import { registerCells } from './register.ts';

registerCells('fs', fsCells);
