import { names } from "./worker/WorkerProtocol.ts"

/**
 * Every subject of the control plane. Requests go to `$NEX.api.<operation>` with a JSON body
 * (the schemas are in api.ts); logs and events are published by the runtime and kept in the
 * NEX_LOGS and NEX_EVENTS streams.
 */
export const subjects = {
  /** All control-plane subjects; reserved: no workload may trigger on, publish or subscribe to them. */
  root: "$NEX.>",
  api: {
    list: "$NEX.api.ls",
    info: "$NEX.api.info",
    undeploy: "$NEX.api.undeploy",
    logs: "$NEX.api.logs",
    events: "$NEX.api.events",
    /** The nodes (a standalone node answers as a one-node cluster), one node, and lame-duck drain of one node. */
    nodes: "$NEX.api.nodes",
    nodeInfo: "$NEX.api.node.info",
    drain: "$NEX.api.node.drain"
  },
  /** Log lines of one workload. */
  logs: names.logsSubject,
  /** Log lines of every workload (the NEX_LOGS stream's subject). */
  allLogs: "$NEX.logs.>",
  /** One lifecycle event of a workload. */
  event: names.eventsSubject,
  /** Every event of one workload. */
  workloadEvents: (name: string) => `$NEX.events.${name}.>`,
  /** Every event (the NEX_EVENTS stream's subject). */
  allEvents: "$NEX.events.>",
  /** The (empty) message a scheduled invocation gets. */
  schedule: (name: string) => `$NEX.schedule.${name}`,
  /** A job message that failed its last attempt, copied with its original subject in a header. */
  deadLetter: (name: string) => `$NEX.deadletters.${name}`,
  allDeadLetters: "$NEX.deadletters.>"
} as const

/** Subject spaces a workload may never trigger on, publish to or subscribe to. */
export const reservedSubjectPrefixes: ReadonlyArray<string> = ["$NEX.", "$JS.", "$KV.", "$O.", "$SYS.", "_INBOX."]

/**
 * Why a workload may not use `subject` (trigger, publish or subscribe), or undefined when it may.
 * A first token that is a wildcard could match a reserved subject, so it is refused too.
 */
export const reservedSubjectProblem = (subject: string): string | undefined => {
  const firstToken = subject.split(".")[0]
  if (firstToken === "*" || firstToken === ">") return `"${subject}" starts with a wildcard and would match reserved subjects ($NEX, $JS, $KV, ...)`
  const prefix = reservedSubjectPrefixes.find((reserved) => subject.startsWith(reserved) || subject === reserved.slice(0, -1))
  return prefix === undefined ? undefined : `"${subject}" is in the reserved ${prefix.slice(0, -1)} subject space`
}
