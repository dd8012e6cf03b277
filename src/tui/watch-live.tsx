/**
 * `dynamo top` live: start the poller, render the store with Ink until q / Ctrl-C, then stop the
 * poller and give the terminal back (Ink restores raw mode and the cursor on unmount).
 */
import {render} from 'ink';
import {type TopOptions, openTop} from '../top/watch.js';
import {TopApp} from './top-app.js';

export async function watchLive(opts: TopOptions & {color: boolean}): Promise<void> {
  const {store, poller} = openTop(opts);
  poller.start();
  // Ctrl-C goes through the app (onQuit), not Ink's default handler, so the poller stops first.
  const app = render(<TopApp store={store} color={opts.color} onQuit={() => void poller.stop()} />, {exitOnCtrlC: false});
  try {
    await app.waitUntilExit();
  } finally {
    await poller.stop();
  }
}
