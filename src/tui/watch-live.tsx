/**
 * `dynamo top` live: start the poller, run the app with Ink until q / Ctrl-C, frames drawn on the
 * alternate screen; then stop the poller and give the terminal back (Ink restores raw mode and the
 * cursor on unmount, the screen its earlier content).
 */
import {render} from 'ink';
import {type TopOptions, openTop} from '../top/watch.js';
import {TerminalScreen} from './terminal-screen.js';
import {TopApp} from './top-app.js';

export async function watchLive(opts: TopOptions & {color: boolean}): Promise<void> {
  const {store, poller} = openTop(opts);
  const screen = new TerminalScreen(process.stdout);
  poller.start();
  screen.open();
  // Ctrl-C goes through the app (onQuit), not Ink's default handler, so the poller stops first.
  const app = render(<TopApp store={store} screen={screen} color={opts.color} onQuit={() => void poller.stop()} />, {exitOnCtrlC: false});
  try {
    await app.waitUntilExit();
  } finally {
    screen.close();
    await poller.stop();
  }
}
