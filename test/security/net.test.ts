/** The attack matrix's network cells (test/security/matrix.ts, implemented in ./cells/net.ts). */
import { netCells } from './cells/net.ts';
import { registerCells } from './register.ts';

registerCells('net', netCells);
