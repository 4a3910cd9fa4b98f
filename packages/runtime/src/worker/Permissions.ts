import { reservedSubjectProblem } from "../subjects.ts"

/** True when every subject matched by `subject` (which may itself hold `*` and `>`) is matched by `pattern`. */
export const subjectCovers = (pattern: string, subject: string): boolean => {
  const patternTokens = pattern.split(".")
  const subjectTokens = subject.split(".")
  for (let index = 0; index < patternTokens.length; index++) {
    const token = patternTokens[index]
    if (token === ">") return index < subjectTokens.length
    if (index >= subjectTokens.length) return false
    const candidate = subjectTokens[index]
    if (candidate === ">") return false
    if (token === "*") continue
    if (candidate === "*" || token !== candidate) return false
  }
  return patternTokens.length === subjectTokens.length
}

/** A publishable subject: dot-separated non-empty tokens, no wildcards, no whitespace. */
export const isPublishSubject = (subject: string): boolean =>
  subject.length > 0 && subject.length <= 1024 && !/[\s*>]/.test(subject) && subject.split(".").every((token) => token.length > 0)

/** Buckets the platform itself uses; workloads reach config and artifacts only through ctx.config/ctx.artifacts. */
export const isReservedBucket = (bucket: string): boolean => bucket.startsWith("nex-")

/** What one workload may do, from its spec. Reserved subject spaces ($NEX, $JS, $KV, …) are never allowed. */
export class Permissions {
  readonly #publish: ReadonlyArray<string>
  readonly #subscribe: ReadonlyArray<string>

  constructor(allowPublish: ReadonlyArray<string>, allowSubscribe: ReadonlyArray<string>) {
    this.#publish = allowPublish
    this.#subscribe = allowSubscribe
  }

  /** Publish and request: subjects covered by allowPublish, outside the reserved spaces. */
  mayPublish(subject: string): boolean {
    return reservedSubjectProblem(subject) === undefined && this.#publish.some((pattern) => subjectCovers(pattern, subject))
  }

  /**
   * Why the workload may not trigger on `subject`, or undefined. Triggers are declared by the
   * deployer, so they need no allowSubscribe entry unless allowSubscribe is non-empty.
   */
  triggerProblem(subject: string): string | undefined {
    const reserved = reservedSubjectProblem(subject)
    if (reserved !== undefined) return `trigger ${reserved}`
    if (this.#subscribe.length > 0 && !this.#subscribe.some((pattern) => subjectCovers(pattern, subject))) {
      return `trigger "${subject}" is not covered by allowSubscribe`
    }
    return undefined
  }
}
