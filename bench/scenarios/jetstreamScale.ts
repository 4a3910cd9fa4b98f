import type { Scenario } from "../Scenario.ts"
import { jetstreamScaleFilter } from "./jetstreamScaleFilter.ts"
import { jetstreamScaleIdleConsumers } from "./jetstreamScaleIdleConsumers.ts"
import { jetstreamScaleRestart } from "./jetstreamScaleRestart.ts"
import { jetstreamScaleSubjects } from "./jetstreamScaleSubjects.ts"

/** JetStream at scale: restart, filtered consumers, idle consumers, memory per subject (`--only js-scale`). */
export const jetstreamScaleScenarios: ReadonlyArray<Scenario> = [
  jetstreamScaleRestart,
  jetstreamScaleFilter,
  jetstreamScaleIdleConsumers,
  jetstreamScaleSubjects
]
