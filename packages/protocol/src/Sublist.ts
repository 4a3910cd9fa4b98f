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

/** Collects one match at a time: plain subscribers in order, queue members grouped by queue name. */
class MatchCollector<S> {
  plain: S[] = []
  groups: Map<string, S[]> | undefined = undefined

  /** Returns the collected result and starts over. */
  take(): MatchResult<S> {
    const queues = this.groups === undefined ? noQueues : [...this.groups.values()]
    const plain = this.plain
    this.groups = undefined
    if (plain.length === 0 && queues.length === 0) return emptyResult as MatchResult<S>
    this.plain = []
    return { plain, queues }
  }

  add(node: Node<S>): void {
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

const noQueues: ReadonlyArray<never> = Object.freeze([])
const emptyResult: MatchResult<never> = Object.freeze({ plain: noQueues, queues: noQueues })

/**
 * The subject index: a trie of subscription patterns with a bounded cache of match results.
 * Every insert or remove bumps a generation counter; cached results from an older generation
 * are treated as misses and replaced.
 */
export class Sublist<S extends Subscriber> {
  private readonly root = new Node<S>()
  private readonly collector = new MatchCollector<S>()
  private readonly cache = new Map<string, CacheEntry<S>>()
  private readonly cacheSize: number
  private readonly cacheKeys: string[]
  private cacheCursor = 0
  private generation = 0
  private subscriptionCount = 0
  private inserts = 0
  private removes = 0
  private matches = 0
  private cacheHits = 0

  constructor(options: { cacheSize?: number } = {}) {
    // nats-server's size. A larger cache keeps entries for one-off subjects (a stream fed 100k
    // distinct subjects) alive long enough to be promoted to V8's old generation.
    this.cacheSize = Math.max(1, options.cacheSize ?? 1024)
    this.cacheKeys = new Array<string>(this.cacheSize).fill("")
  }

  /** Adds a subscriber; the subject is assumed valid. Inserting the same object twice is a no-op. */
  insert(subscriber: S): void {
    let node = this.root
    for (const token of subscriber.subject.split(".")) node = node.childOrCreate(token)
    const queue = subscriber.queue
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
    if (cached === undefined) {
      // First in, first out through a ring of the cached keys (taking a Map's first key gets slow
      // after many deletes, as the iterator skips the holes they leave).
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cacheKeys[this.cacheCursor])
      this.cacheKeys[this.cacheCursor] = subject
      this.cacheCursor = this.cacheCursor + 1 === this.cacheSize ? 0 : this.cacheCursor + 1
    }
    this.cache.set(subject, { generation: this.generation, result })
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

const hasSubscribers = <S>(node: Node<S>): boolean => node.plain !== undefined || node.queues !== undefined

const hasMatch = <S>(node: Node<S>, tokens: string[], index: number): boolean => {
  if (index === tokens.length) return hasSubscribers(node)
  if (node.remainingTokens !== undefined && hasSubscribers(node.remainingTokens)) return true
  if (node.anyToken !== undefined && hasMatch(node.anyToken, tokens, index + 1)) return true
  const literal = node.literals?.get(tokens[index])
  return literal !== undefined && hasMatch(literal, tokens, index + 1)
}
