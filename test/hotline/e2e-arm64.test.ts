// The first hunt case and pcap2wave with the appliance on arm64 Node under qemu (see arm-case.ts).
import { armHuntCase } from './arm-case.js';

armHuntCase('arm64');
