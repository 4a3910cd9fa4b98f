import { Args, Command, Options } from "@effect/cli"
import { type DeployStep, deployWorkload, parseDurationText, WorkloadConfig, type WorkloadConfigInput } from "@nex/runtime"
import { Console, Effect, Option } from "effect"
import { describeConfigProblem } from "../configProblem.ts"
import { CommandFailure, reportFailure } from "./CommandFailure.ts"
import { connectionFlags, openConnection } from "./connectionFlags.ts"
import { formatBytes } from "./formatting.ts"

const optionalText = (name: string, description: string) => Options.text(name).pipe(Options.withDescription(description), Options.optional)
const repeatedText = (name: string, description: string) => Options.text(name).pipe(Options.withDescription(description), Options.repeated)

/** The flag that sets each field of a WorkloadConfig, so an error names what the user typed. */
const flagOfField: Record<string, string> = {
  file: "FILE",
  name: "--name",
  triggers: "--trigger",
  queue: "--queue",
  job: "--job",
  every: "--every",
  cron: "--cron",
  config: "--config",
  memory: "--memory",
  timeout: "--timeout",
  concurrency: "--concurrency",
  replicas: "--replicas",
  allowPublish: "--allow-pub",
  allowSubscribe: "--allow-sub",
  tags: "--tags"
}
const flagOfJobField: Record<string, string> = { stream: "--job", filter: "--filter", maxAttempts: "--attempts" }

const wholeNumber = (flag: string, text: Option.Option<string>): Effect.Effect<number | undefined, CommandFailure> => {
  if (Option.isNone(text)) return Effect.succeed(undefined)
  return /^\d{1,9}$/.test(text.value)
    ? Effect.succeed(Number(text.value))
    : Effect.fail(new CommandFailure({ message: `${flag}: expected a whole number, got ${JSON.stringify(text.value)}` }))
}

const deployFlags = {
  file: Args.text({ name: "file" }).pipe(Args.withDescription("The workload's module (TypeScript or JavaScript); its default export is the handler")),
  name: Options.text("name").pipe(Options.withDescription("Workload name: a-z, 0-9, '-' and '_'")),
  trigger: repeatedText("trigger", "Subject that invokes it (repeatable; wildcards allowed)"),
  queue: optionalText("queue", "Queue group of the triggers (default nex.<name>)"),
  job: optionalText("job", "JetStream stream to consume as a job (durable consumer nex-<name>)"),
  filter: optionalText("filter", "Subject filter of the job's consumer"),
  attempts: optionalText("attempts", "Deliveries of a job message before it is dead-lettered (default 5)"),
  every: optionalText("every", "Run on a schedule, e.g. 10s, 5m"),
  cron: optionalText("cron", 'Run on a cron schedule, e.g. "*/5 * * * *"'),
  config: optionalText("config", "KV key in nex-config holding its configuration (default: the name)"),
  memory: optionalText("memory", "Memory limit in MiB (default 32)"),
  timeout: optionalText("timeout", "Time limit of one invocation, e.g. 5s (default 5s)"),
  concurrency: optionalText("concurrency", "Invocations in flight per replica (default 1, which keeps order)"),
  replicas: optionalText("replicas", "Instances, each in its own sandbox process (default 1)"),
  allowPub: repeatedText("allow-pub", "Subject it may publish or request to (repeatable; wildcards allowed)"),
  allowSub: repeatedText("allow-sub", "Subjects its triggers must fall within (repeatable)"),
  tags: optionalText("tags", "In a cluster: run only on nodes carrying all these tags, comma separated (nex up --tags)"),
  wait: optionalText("wait", "How long to wait for a node to start it (default 30s; 0 returns once stored)"),
  ...connectionFlags
}

type Flags = Command.Command.ParseConfig<typeof deployFlags>

const problemWithFlags = (issues: Parameters<typeof describeConfigProblem>[1]): string => {
  const issue = issues[0]
  const [field, subField] = issue.path
  const flag = field === "job" && typeof subField === "string" ? flagOfJobField[subField] : flagOfField[String(field)]
  const described = describeConfigProblem(WorkloadConfig, issues)
  const withoutPath = described.replace(/^[^:]*: /, "")
  return flag === undefined ? described : `${flag}: ${withoutPath}`
}

/** The deploy flags as a validated WorkloadConfig; the error names the flag. */
export const workloadConfigOf = (flags: Flags): Effect.Effect<WorkloadConfig, CommandFailure> =>
  Effect.gen(function* () {
    if (Option.isSome(flags.filter) && Option.isNone(flags.job)) return yield* new CommandFailure({ message: "--filter: needs --job STREAM" })
    if (Option.isSome(flags.every) && Option.isSome(flags.cron)) return yield* new CommandFailure({ message: "--cron: give either --every or --cron, not both" })
    const input: WorkloadConfigInput = {
      file: flags.file,
      name: flags.name,
      triggers: flags.trigger,
      queue: Option.getOrUndefined(flags.queue),
      job: Option.isNone(flags.job)
        ? undefined
        : { stream: flags.job.value, filter: Option.getOrUndefined(flags.filter), maxAttempts: yield* wholeNumber("--attempts", flags.attempts) },
      every: Option.getOrUndefined(flags.every),
      cron: Option.getOrUndefined(flags.cron),
      config: Option.getOrUndefined(flags.config),
      memory: yield* wholeNumber("--memory", flags.memory),
      timeout: Option.getOrUndefined(flags.timeout),
      concurrency: yield* wholeNumber("--concurrency", flags.concurrency),
      replicas: yield* wholeNumber("--replicas", flags.replicas),
      allowPublish: flags.allowPub,
      allowSubscribe: flags.allowSub,
      tags: Option.isNone(flags.tags) ? undefined : flags.tags.value.split(",").map((tag) => tag.trim())
    }
    const result = WorkloadConfig.safeParse(input, { reportInput: true })
    if (!result.success) return yield* new CommandFailure({ message: problemWithFlags(result.error.issues) })
    return result.data
  })

const waitMilliseconds = (text: Option.Option<string>): Effect.Effect<number, CommandFailure> => {
  if (Option.isNone(text)) return Effect.succeed(30_000)
  const milliseconds = text.value === "0" ? 0 : parseDurationText(text.value)
  return milliseconds === undefined
    ? Effect.fail(new CommandFailure({ message: `--wait: expected a duration like 30s or 2m, got ${JSON.stringify(text.value)}` }))
    : Effect.succeed(milliseconds)
}

const describeStep = (step: DeployStep): string => {
  switch (step.step) {
    case "bundled":
      return `bundled ${step.file} (${formatBytes(step.size)}, sha256 ${step.sha256.slice(0, 12)})`
    case "uploaded":
      return step.alreadyStored ? `bundle ${step.sha256.slice(0, 12)} already in nex-bundles` : `uploaded bundle ${step.sha256.slice(0, 12)} to nex-bundles`
    case "streamCreated":
      return `created stream ${step.stream} for ${step.subjects.join(", ")}`
    case "stored":
      return `stored ${step.name} revision ${step.revision} in nex-deployments; waiting for a node to start it`
    case "unchanged":
      return `${step.name} revision ${step.revision} is unchanged`
    case "accepted":
      return `node ${step.node} is starting ${step.name} revision ${step.revision}`
  }
}

/** `nex deploy FILE --name N ...`: bundle, store, and wait until a node runs it. */
export const deployCommand = Command.make("deploy", deployFlags, (flags) =>
  Effect.gen(function* () {
    const workload = yield* workloadConfigOf(flags)
    const waitMs = yield* waitMilliseconds(flags.wait)
    const connection = yield* openConnection(flags)
    const result = yield* deployWorkload(connection, workload, { waitMs, onProgress: (step) => console.log(describeStep(step)) })
    const triggers = [
      ...result.spec.triggers,
      ...(result.spec.job === undefined ? [] : [`job ${result.spec.job.stream}${result.spec.job.filter === undefined ? "" : ` (${result.spec.job.filter})`}`]),
      ...(result.spec.schedule === undefined ? [] : ["schedule"])
    ].join(", ")
    yield* Console.log(
      result.node === undefined
        ? `${result.spec.name} revision ${result.spec.revision} is stored; nodes will start it`
        : `${result.spec.name} revision ${result.spec.revision} is running on node ${result.node} (${triggers})`
    )
  }).pipe(Effect.scoped, reportFailure("deploy"))
).pipe(Command.withDescription("Bundle a workload, store it, and wait until a node runs it"))
