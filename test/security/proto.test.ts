/** The attack matrix's protocol cells (test/security/matrix.ts, implemented in ./cells/proto.ts). */
import { protoCells } from './cells/proto.ts';
import { registerCells } from './register.ts';

registerCells('proto', protoCells);
