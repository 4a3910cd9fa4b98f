import { z } from "zod"
import { DeploymentSpec, JobTrigger, WorkloadName } from "./DeploymentSpec.ts"

const subject = z.string().min(1).regex(/^[^\s]+$/, "must be a NATS subject without spaces")

const unitMilliseconds: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** "500ms", "10s", "1m30s", "2h", "1d" to milliseconds; undefined when malformed. */
export const parseDurationText = (text: string): number | undefined => {
  const parts = /^(?:\d+(?:ms|s|m|h|d))+$/.test(text) ? text.match(/\d+(?:ms|s|m|h|d)/g) : null
  if (parts === null) return undefined
  return parts.reduce((total, part) => {
    const [, amount, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(part)!
    return total + Number(amount) * unitMilliseconds[unit]
  }, 0)
}

/** A duration as whole milliseconds or as text like "10s", "1m30s", "500ms". */
export const DurationText = z.union([z.number(), z.string()]).transform((value, context) => {
  const milliseconds = typeof value === "number" ? value : parseDurationText(value)
  if (milliseconds === undefined || !Number.isSafeInteger(milliseconds) || milliseconds < 0) {
    context.addIssue({ code: "custom", message: `expected a duration like "500ms", "10s" or "1m30s", got ${JSON.stringify(value)}` })
    return z.NEVER
  }
  return milliseconds
})

const cronField = /^(\*|\d+|[a-z]{3})([-/,](\*|\d+|[a-z]{3}))*$/i

/** Five fields: minute hour day-of-month month day-of-week. */
export const CronText = z.string().refine((text) => {
  const fields = text.trim().split(/\s+/)
  return fields.length === 5 && fields.every((field) => cronField.test(field))
}, "expected a cron expression of 5 fields (minute hour day-of-month month day-of-week), e.g. \"*/5 * * * *\"")

// The limits are the deployment spec's own fields, so both accept the same ranges.
const spec = DeploymentSpec.shape

/**
 * One workload as `nex.config.ts` declares it and `nex deploy` builds it from flags: the source
 * file plus the options a deployment takes. Durations may be written as text ("10s").
 */
export const WorkloadConfig = z
  .strictObject({
    /** The handler module (TypeScript or JavaScript), relative to the working directory. */
    file: z.string().min(1),
    name: WorkloadName,
    triggers: z.array(subject).default([]),
    queue: z.string().min(1).optional(),
    job: JobTrigger.optional(),
    every: DurationText.pipe(z.number().int().min(100, "must be at least 100ms")).optional(),
    cron: CronText.optional(),
    /** KV key in `nex-config` holding the workload's configuration (default: its name). */
    config: z.string().min(1).optional(),
    /** Memory limit of the isolate in MiB. */
    memory: spec.memoryMiB.unwrap().optional(),
    /** Time limit of one invocation. */
    timeout: DurationText.pipe(spec.timeoutMs.unwrap()).optional(),
    concurrency: spec.concurrency.unwrap().optional(),
    mailbox: spec.mailbox.unwrap().optional(),
    replicas: spec.replicas.unwrap().optional(),
    /** In a cluster: run only on nodes with all these tags (`nex up --tags`). */
    tags: z.array(z.string().min(1)).optional(),
    allowPublish: z.array(subject).default([]),
    allowSubscribe: z.array(subject).default([])
  })
  .refine((workload) => workload.every === undefined || workload.cron === undefined, {
    message: "give either every or cron, not both",
    path: ["cron"]
  })
export type WorkloadConfig = z.infer<typeof WorkloadConfig>
export type WorkloadConfigInput = z.input<typeof WorkloadConfig>

/** The workloads section of `nex.config.ts`; names must be unique. */
export const WorkloadConfigList = z.array(WorkloadConfig).superRefine((workloads, context) => {
  const seen = new Set<string>()
  workloads.forEach((workload, index) => {
    if (seen.has(workload.name)) context.addIssue({ code: "custom", message: `the name "${workload.name}" is used twice`, path: [index, "name"] })
    seen.add(workload.name)
  })
})
