import type { RuntimeScenario } from "../runtime/RuntimeScenario.ts"
import { runtimeCluster } from "./runtimeCluster.ts"
import { runtimeColdStart } from "./runtimeColdStart.ts"
import { runtimeConfigChange } from "./runtimeConfigChange.ts"
import { runtimeCronFailover } from "./runtimeCronFailover.ts"
import { runtimeDeploy } from "./runtimeDeploy.ts"
import { runtimeIdleWorkloads } from "./runtimeIdleWorkloads.ts"
import { runtimeJob } from "./runtimeJob.ts"
import { runtimeRequestReply } from "./runtimeRequestReply.ts"

/** The workload runtime's figures, each against a plain client in the same run or against its target. */
export const runtimeScenarios: ReadonlyArray<RuntimeScenario> = [
  runtimeColdStart,
  runtimeDeploy,
  runtimeRequestReply,
  runtimeJob,
  runtimeConfigChange,
  runtimeIdleWorkloads,
  runtimeCluster,
  runtimeCronFailover
]
