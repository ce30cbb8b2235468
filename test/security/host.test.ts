/** The attack matrix's host-interference cells (test/security/matrix.ts, implemented in ./cells/host.ts). */
import { hostCells } from './cells/host.ts';
import { registerCells } from './register.ts';

registerCells('host', hostCells);
