// The sample batch wg_process builds: answers and unsolicited frames append to the same writer, in
// the order of their records.
import { SampleWriter } from "../sdk";

export const writer = new SampleWriter();
