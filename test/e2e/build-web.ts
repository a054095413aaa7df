/** The end-to-end suite tests the console's current sources: web/dist is built afresh before it runs. */
import { buildWeb } from '../../web/build.ts';

export default async function setup(): Promise<void> {
  await buildWeb({ quiet: true });
}
