/**
 * Children of `dynamo up` exit when their supervisor is gone, even when it was SIGKILLed and could
 * signal nobody. The supervisor holds the write end of each child's stdin: when it dies the kernel
 * closes it and the child reads EOF (over SSH too: the session channel closes). A re-parented child
 * (ppid changed) is also orphaned. Only active under a supervisor, which sets DYN_SUPERVISED=1.
 */
export function watchParent(onGone: (why: string) => void, env: NodeJS.ProcessEnv = process.env): () => void {
  if (env.DYN_SUPERVISED !== '1') return () => {};
  let fired = false;
  const fire = (why: string) => {
    if (fired) return;
    fired = true;
    onGone(why);
  };
  const onEnd = () => fire('stdin closed: the supervisor is gone');
  process.stdin.on('end', onEnd);
  process.stdin.on('close', onEnd);
  process.stdin.on('error', onEnd);
  process.stdin.resume();
  const ppid = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== ppid) fire(`re-parented (ppid ${ppid} → ${process.ppid}): the supervisor is gone`);
  }, 500);
  timer.unref();
  return () => {
    clearInterval(timer);
    process.stdin.off('end', onEnd);
    process.stdin.off('close', onEnd);
    process.stdin.pause();
  };
}
