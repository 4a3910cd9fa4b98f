import { isSubsetOf, subjectMatches, subjectsOverlap } from "@nex/protocol"
import type { Permissions as PermissionsConfig } from "./BrokerConfig.ts"

const cacheLimit = 1024

interface SubscribeRule {
  readonly subject: string
  readonly queue: string | undefined
}

/** An entry "subject queue" allows or denies only that queue group, as in nats-server. */
const parseSubscribeRule = (entry: string): SubscribeRule => {
  const parts = entry.trim().split(/\s+/)
  return { subject: parts[0], queue: parts[1] }
}

/**
 * A user's publish and subscribe allow/deny lists, compiled once; publish checks are cached per
 * subject because they run for every message.
 */
export class UserPermissions {
  readonly allowResponses: boolean
  private readonly publishAllow: ReadonlyArray<string> | undefined
  private readonly publishDeny: ReadonlyArray<string>
  private readonly subscribeAllow: ReadonlyArray<SubscribeRule> | undefined
  private readonly subscribeDeny: ReadonlyArray<SubscribeRule>
  private readonly publishCache = new Map<string, boolean>()

  constructor(config: PermissionsConfig) {
    this.publishAllow = config.publish?.allow
    this.publishDeny = config.publish?.deny ?? []
    this.subscribeAllow = config.subscribe?.allow?.map(parseSubscribeRule)
    this.subscribeDeny = (config.subscribe?.deny ?? []).map(parseSubscribeRule)
    this.allowResponses = config.allowResponses ?? false
  }

  get hasSubscribeDeny(): boolean {
    return this.subscribeDeny.length > 0
  }

  canPublish(subject: string): boolean {
    const cached = this.publishCache.get(subject)
    if (cached !== undefined) return cached
    const allowed =
      (this.publishAllow === undefined || this.publishAllow.some((pattern) => subjectMatches(pattern, subject))) &&
      !this.publishDeny.some((pattern) => subjectMatches(pattern, subject))
    if (this.publishCache.size >= cacheLimit) this.publishCache.clear()
    this.publishCache.set(subject, allowed)
    return allowed
  }

  /** A wildcard subscription must lie inside an allowed pattern; a deny that only overlaps it is applied per message. */
  canSubscribe(subject: string, queue: string | undefined): boolean {
    const queueFits = (rule: SubscribeRule) => rule.queue === undefined || rule.queue === queue
    if (this.subscribeAllow !== undefined) {
      const allowed = this.subscribeAllow.some((rule) => queueFits(rule) && isSubsetOf(subject, rule.subject))
      if (!allowed) return false
    }
    return !this.subscribeDeny.some((rule) => queueFits(rule) && isSubsetOf(subject, rule.subject))
  }

  /** For a wildcard subscription that overlaps a deny rule: may this concrete subject be delivered? */
  canDeliver(subscriptionSubject: string, subject: string, queue: string | undefined): boolean {
    for (const rule of this.subscribeDeny) {
      if (rule.queue !== undefined && rule.queue !== queue) continue
      if (subjectsOverlap(rule.subject, subscriptionSubject) && subjectMatches(rule.subject, subject)) return false
    }
    return true
  }
}
