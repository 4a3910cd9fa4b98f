import { BoundedMap } from "./BoundedMap.ts"

/** What the subject index stores: a subscription on `subject`, optionally in a queue group. */
export interface Subscriber {
  readonly subject: string
  readonly queue: string | undefined
}

/** The subscribers a literal subject reaches: plain ones, and one array per distinct queue name. */
export interface MatchResult<S> {
  readonly plain: ReadonlyArray<S>
  readonly queues: ReadonlyArray<ReadonlyArray<S>>
}

export interface SublistStats {
  readonly numSubscriptions: number
  readonly numCache: number
  readonly numInserts: number
  readonly numRemoves: number
  readonly numMatches: number
  readonly cacheHitRate: number
  readonly maxFanout: number
  readonly avgFanout: number
}

/** One trie level: literal children by token, plus direct links for the `*` and `>` children. */
class Node<S> {
  literals: Map<string, Node<S>> | undefined = undefined
  anyToken: Node<S> | undefined = undefined
  remainingTokens: Node<S> | undefined = undefined
  plain: Set<S> | undefined = undefined
  queues: Map<string, Set<S>> | undefined = undefined
  /** This node's own subscribers as a match result: built when first needed, dropped when they change. */
  ownResult: MatchResult<S> | undefined = undefined

  hasSubscribers(): boolean {
    return this.plain !== undefined || this.queues !== undefined
  }

  /** The result of a match that reaches this node alone, shared by every such match. */
  resultOfOwn(): MatchResult<S> {
    return (this.ownResult ??= {
      plain: this.plain === undefined ? noQueues : [...this.plain],
      queues: this.queues === undefined ? noQueues : [...this.queues.values()].map((members) => [...members])
    })
  }

  isEmpty(): boolean {
    return this.literals === undefined && this.anyToken === undefined && this.remainingTokens === undefined &&
      this.plain === undefined && this.queues === undefined
  }

  child(token: string): Node<S> | undefined {
    if (token === "*") return this.anyToken
    if (token === ">") return this.remainingTokens
    return this.literals?.get(token)
  }

  childOrCreate(token: string): Node<S> {
    if (token === "*") return (this.anyToken ??= new Node())
    if (token === ">") return (this.remainingTokens ??= new Node())
    const literals = (this.literals ??= new Map())
    let node = literals.get(token)
    if (node === undefined) {
      node = new Node()
      literals.set(token, node)
    }
    return node
  }

  removeChild(token: string): void {
    if (token === "*") this.anyToken = undefined
    else if (token === ">") this.remainingTokens = undefined
    else if (this.literals !== undefined) {
      this.literals.delete(token)
      if (this.literals.size === 0) this.literals = undefined
    }
  }
}

interface CacheEntry<S> {
  readonly generation: number
  readonly result: MatchResult<S>
}

/**
 * Collects one match at a time: plain subscribers in order, queue members grouped by queue name.
 * A match that reaches one node with subscribers (a reply subject reaching its requester's inbox
 * wildcard) takes that node's own result and allocates nothing.
 */
class MatchCollector<S> {
  plain: S[] = []
  groups: Map<string, S[]> | undefined = undefined
  /** Nodes with subscribers reached so far, and the first of them until a second one comes. */
  private nodes = 0
  private first: Node<S> | undefined = undefined

  /** Returns the collected result and starts over. */
  take(): MatchResult<S> {
    const nodes = this.nodes
    this.nodes = 0
    if (nodes === 0) return emptyResult as MatchResult<S>
    if (nodes === 1) {
      const only = this.first!
      this.first = undefined
      return only.resultOfOwn()
    }
    const queues = this.groups === undefined ? noQueues : [...this.groups.values()]
    const plain = this.plain
    this.groups = undefined
    this.plain = []
    return { plain, queues }
  }

  add(node: Node<S>): void {
    if (!node.hasSubscribers()) return
    const nodes = ++this.nodes
    if (nodes === 1) {
      this.first = node
      return
    }
    if (nodes === 2) {
      this.append(this.first!)
      this.first = undefined
    }
    this.append(node)
  }

  private append(node: Node<S>): void {
    if (node.plain !== undefined) for (const subscriber of node.plain) this.plain.push(subscriber)
    if (node.queues === undefined) return
    const groups = (this.groups ??= new Map())
    for (const [name, members] of node.queues) {
      const group = groups.get(name)
      if (group === undefined) groups.set(name, [...members])
      else for (const member of members) group.push(member)
    }
  }
}

/** How many more subjects the matched-once list remembers than the cache holds. */
const seenOnceRatio = 4

const noQueues: ReadonlyArray<never> = Object.freeze([])
const emptyResult: MatchResult<never> = Object.freeze({ plain: noQueues, queues: noQueues })

/**
 * The subject index: a trie of subscription patterns with a bounded cache of match results for
 * subjects matched more than once. Every insert or remove bumps a generation counter; cached
 * results from an older generation are treated as misses and replaced.
 */
export class Sublist<S extends Subscriber> {
  private readonly root = new Node<S>()
  private readonly collector = new MatchCollector<S>()
  private readonly cache: BoundedMap<CacheEntry<S>>
  /**
   * Subjects matched once and not cached: a subject is cached on its second match. A request's
   * unique reply subject (`_INBOX.<id>.<n>`) is matched once, so it no longer evicts a subject
   * that is matched again and again. Larger than the cache, so that a subject that would fit in
   * the cache is still remembered when it comes back after a reply subject per request.
   */
  private readonly seenOnce: BoundedMap<true>
  private generation = 0
  private subscriptionCount = 0
  private inserts = 0
  private removes = 0
  private matches = 0
  private cacheHits = 0

  constructor(options: { cacheSize?: number } = {}) {
    // nats-server's size. A larger cache keeps entries for one-off subjects (a stream fed 100k
    // distinct subjects) alive long enough to be promoted to V8's old generation.
    const cacheSize = options.cacheSize ?? 1024
    this.cache = new BoundedMap(cacheSize)
    this.seenOnce = new BoundedMap(cacheSize * seenOnceRatio)
  }

  /** Adds a subscriber; the subject is assumed valid. Inserting the same object twice is a no-op. */
  insert(subscriber: S): void {
    let node = this.root
    for (const token of subscriber.subject.split(".")) node = node.childOrCreate(token)
    const queue = subscriber.queue
    node.ownResult = undefined
    if (queue === undefined) {
      const plain = (node.plain ??= new Set())
      if (plain.has(subscriber)) return
      plain.add(subscriber)
    } else {
      const queues = (node.queues ??= new Map())
      let members = queues.get(queue)
      if (members === undefined) {
        members = new Set()
        queues.set(queue, members)
      }
      if (members.has(subscriber)) return
      members.add(subscriber)
    }
    this.subscriptionCount++
    this.inserts++
    this.generation++
  }

  /** Removes a subscriber by identity and prunes trie nodes left empty; false if it was not present. */
  remove(subscriber: S): boolean {
    const tokens = subscriber.subject.split(".")
    const path: Node<S>[] = [this.root]
    let node: Node<S> | undefined = this.root
    for (const token of tokens) {
      node = node.child(token)
      if (node === undefined) return false
      path.push(node)
    }
    const queue = subscriber.queue
    node.ownResult = undefined
    if (queue === undefined) {
      if (node.plain === undefined || !node.plain.delete(subscriber)) return false
      if (node.plain.size === 0) node.plain = undefined
    } else {
      const members = node.queues?.get(queue)
      if (members === undefined || !members.delete(subscriber)) return false
      if (members.size === 0) {
        node.queues!.delete(queue)
        if (node.queues!.size === 0) node.queues = undefined
      }
    }
    for (let depth = tokens.length; depth > 0 && path[depth].isEmpty(); depth--) {
      path[depth - 1].removeChild(tokens[depth - 1])
    }
    this.subscriptionCount--
    this.removes++
    this.generation++
    return true
  }

  /** Subscribers whose pattern matches the literal `subject`. The result may be shared: do not mutate it. */
  match(subject: string): MatchResult<S> {
    this.matches++
    const cached = this.cache.get(subject)
    if (cached !== undefined && cached.generation === this.generation) {
      this.cacheHits++
      return cached.result
    }
    collectMatches(this.root, subject.split("."), 0, this.collector)
    const result = this.collector.take()
    if (cached !== undefined) this.cache.replace(subject, { generation: this.generation, result })
    else if (this.seenOnce.has(subject)) this.cache.add(subject, { generation: this.generation, result })
    else this.seenOnce.add(subject, true)
    return result
  }

  /** Whether any subscriber matches the literal `subject`. */
  hasInterest(subject: string): boolean {
    const cached = this.cache.get(subject)
    if (cached !== undefined && cached.generation === this.generation) return cached.result !== emptyResult
    return hasMatch(this.root, subject.split("."), 0)
  }

  get count(): number {
    return this.subscriptionCount
  }

  stats(): SublistStats {
    let cachedResults = 0
    let totalFanout = 0
    let maxFanout = 0
    for (const entry of this.cache.values()) {
      if (entry.generation !== this.generation) continue
      const fanout = entry.result.plain.length + entry.result.queues.length
      cachedResults++
      totalFanout += fanout
      if (fanout > maxFanout) maxFanout = fanout
    }
    return {
      numSubscriptions: this.subscriptionCount,
      numCache: cachedResults,
      numInserts: this.inserts,
      numRemoves: this.removes,
      numMatches: this.matches,
      cacheHitRate: this.matches === 0 ? 0 : this.cacheHits / this.matches,
      maxFanout,
      avgFanout: cachedResults === 0 ? 0 : totalFanout / cachedResults
    }
  }

  /** Every stored subscriber, in no particular order. */
  *subscribers(): IterableIterator<S> {
    const pending: Node<S>[] = [this.root]
    while (pending.length > 0) {
      const node = pending.pop()!
      if (node.plain !== undefined) yield* node.plain
      if (node.queues !== undefined) for (const members of node.queues.values()) yield* members
      if (node.literals !== undefined) for (const child of node.literals.values()) pending.push(child)
      if (node.anyToken !== undefined) pending.push(node.anyToken)
      if (node.remainingTokens !== undefined) pending.push(node.remainingTokens)
    }
  }
}

const collectMatches = <S>(node: Node<S>, tokens: string[], index: number, collector: MatchCollector<S>): void => {
  if (index === tokens.length) {
    collector.add(node)
    return
  }
  if (node.remainingTokens !== undefined) collector.add(node.remainingTokens)
  if (node.anyToken !== undefined) collectMatches(node.anyToken, tokens, index + 1, collector)
  const literal = node.literals?.get(tokens[index])
  if (literal !== undefined) collectMatches(literal, tokens, index + 1, collector)
}

const hasMatch = <S>(node: Node<S>, tokens: string[], index: number): boolean => {
  if (index === tokens.length) return node.hasSubscribers()
  if (node.remainingTokens !== undefined && node.remainingTokens.hasSubscribers()) return true
  if (node.anyToken !== undefined && hasMatch(node.anyToken, tokens, index + 1)) return true
  const literal = node.literals?.get(tokens[index])
  return literal !== undefined && hasMatch(literal, tokens, index + 1)
}
