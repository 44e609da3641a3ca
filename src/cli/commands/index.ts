import type { Command } from 'commander';
import * as run from './run.js';
import * as query from './query.js';
import * as demo from './demo.js';
import { register as registerInspect } from './inspect.js';
import { register as registerJoin } from './join.js';
import { register as registerRecipe } from './recipe.js';
import { register as registerNormalize } from './normalize.js';
import { register as registerFeatureSelect } from './feature-select.js';
import { register as registerAggregate } from './aggregate.js';
import { register as registerConsensus } from './consensus.js';
import { register as registerReport } from './report.js';
import { register as registerEvaluate } from './evaluate.js';
import { register as registerMap } from './map.js';
import { register as registerPredict } from './predict.js';
import { register as registerSynth } from './synth.js';
import { register as registerCells } from './cells.js';
import { register as registerProfile } from './profile.js';
import { register as registerWorkflow } from './workflow.js';
import { register as registerAnnotate } from './annotate.js';

/** Every command registers itself here, one line each, in the order shown by --help. */
export function registerCommands(program: Command): void {
  demo.register(program);
  registerCells(program);
  registerProfile(program);
  registerWorkflow(program);
  run.register(program);
  query.register(program);
  registerInspect(program);
  registerJoin(program);
  registerAnnotate(program);
  registerRecipe(program);
  registerNormalize(program);
  registerFeatureSelect(program);
  registerAggregate(program);
  registerConsensus(program);
  registerReport(program);
  registerEvaluate(program);
  registerMap(program);
  registerPredict(program);
  registerSynth(program);
}
