/**
 * The startup as a listr2 task list, returned unrun: one sequential step per dependency wave, one
 * concurrent task per process titled `id@host :port`. Tests run it with the silent renderer.
 */
import {Listr, type ListrRendererValue, type ProcessOutput} from 'listr2';
import {Cancelled} from '../shared/errors.js';
import {startWaves} from './plan.js';
import type {Supervisor} from './supervisor.js';

export function startupTasks(sup: Supervisor, renderer: ListrRendererValue = 'silent', processOutput?: ProcessOutput): Listr<any, any, any> {
  const waves = startWaves(sup.plan.processes);
  return new Listr(
    waves.map((wave, i) => ({
      title: waves.length > 1 ? `start ${wave.length > 1 ? `${wave.length} processes` : wave[0]!.id} (step ${i + 1}/${waves.length})` : 'start',
      task: (_ctx: unknown, task: any) =>
        task.newListr(
          wave.map((p) => ({
            title: `${p.id}@${p.host.name}${Object.values(p.ports).length ? ` :${Object.values(p.ports).join(',')}` : ''}`,
            task: async (_c: unknown, t: any) => {
              try {
                await sup.startOne(p.id);
              } catch (e) {
                // A start the user stopped is skipped, not failed.
                if (e instanceof Cancelled) return t.skip(e.message);
                throw e;
              }
            },
          })),
          {concurrent: true, exitOnError: true},
        ),
    })),
    {renderer, exitOnError: true, registerSignalListeners: false, processOutput, rendererOptions: {collapseSubtasks: false}} as any,
  );
}
