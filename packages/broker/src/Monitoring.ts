import { createServer } from "node:http"
import { availableParallelism } from "node:os"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Data, Effect, Layer } from "effect"
import { Broker } from "./Broker.ts"
import type { ClientConnection } from "./ClientConnection.ts"
import type { Server } from "./Server.ts"

export class MonitoringStartError extends Data.TaggedError("MonitoringStartError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

export interface MonitoringOptions {
  readonly host: string
  readonly port: number
}

/** Extra `jetstream` block for /varz and the /jsz body, supplied by the JetStream layer when present. */
export interface JetStreamReport {
  readonly varz: () => unknown
  readonly jsz: (query: URLSearchParams) => unknown
}

const jetStreamReports = new WeakMap<Server, JetStreamReport>()

/** Lets the JetStream layer add its figures to /varz and serve /jsz. */
export const registerJetStreamReport = (server: Server, report: JetStreamReport): void => {
  jetStreamReports.set(server, report)
}

/** nats-server's uptime format: `1d2h3m4s`, leading zero units left out. */
export const formatUptime = (milliseconds: number): string => {
  let seconds = Math.floor(milliseconds / 1000)
  const days = Math.floor(seconds / 86_400)
  seconds -= days * 86_400
  const hours = Math.floor(seconds / 3600)
  seconds -= hours * 3600
  const minutes = Math.floor(seconds / 60)
  seconds -= minutes * 60
  if (days > 0) return `${days}d${hours}h${minutes}m${seconds}s`
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`
  if (minutes > 0) return `${minutes}m${seconds}s`
  return `${seconds}s`
}

const nanoseconds = (milliseconds: number): number => milliseconds * 1_000_000

/** Displayed subjects are UTF-8; inside the broker they are latin1 byte strings. */
const display = (wire: string): string => Buffer.from(wire, "latin1").toString("utf8")

class CpuSampler {
  private lastUsage = process.cpuUsage()
  private lastTime = process.hrtime.bigint()
  private lastPercent = 0

  percent(): number {
    const now = process.hrtime.bigint()
    const elapsedMicros = Number(now - this.lastTime) / 1000
    if (elapsedMicros < 100_000) return this.lastPercent
    const usage = process.cpuUsage(this.lastUsage)
    this.lastPercent = Math.round(((usage.user + usage.system) / elapsedMicros) * 10_000) / 100
    this.lastUsage = process.cpuUsage()
    this.lastTime = now
    return this.lastPercent
  }
}

const varz = (server: Server, options: MonitoringOptions, cpu: CpuSampler, requestStats: Record<string, number>) => {
  const config = server.config
  const now = new Date()
  const body: Record<string, unknown> = {
    server_id: server.serverId,
    server_name: server.serverName,
    version: server.info.version,
    proto: 1,
    go: server.info.go,
    host: config.host,
    port: server.port,
    max_connections: config.maxConnections,
    ping_interval: nanoseconds(config.pingIntervalMs),
    ping_max: config.pingMax,
    http_host: options.host,
    http_port: options.port,
    http_base_path: "",
    https_port: 0,
    auth_timeout: config.authTimeoutMs / 1000,
    max_control_line: config.maxControlLine,
    max_payload: config.maxPayload,
    max_pending: config.maxPending,
    tls_timeout: 2,
    write_deadline: nanoseconds(config.writeDeadlineMs),
    start: server.startTime.toISOString(),
    now: now.toISOString(),
    uptime: formatUptime(now.getTime() - server.startTime.getTime()),
    mem: process.memoryUsage.rss(),
    cores: availableParallelism(),
    gomaxprocs: 1,
    cpu: cpu.percent(),
    connections: server.clients.size,
    total_connections: server.totalConnections,
    routes: 0,
    remotes: 0,
    leafnodes: 0,
    in_msgs: server.inMsgs,
    out_msgs: server.outMsgs,
    in_bytes: server.inBytes,
    out_bytes: server.outBytes,
    slow_consumers: server.slowConsumers,
    slow_consumer_stats: { clients: server.slowConsumers, routes: 0, gateways: 0, leafs: 0 },
    stale_connections: server.staleConnections,
    subscriptions: server.sublist.count,
    http_req_stats: requestStats,
    config_load_time: server.startTime.toISOString(),
    cluster: {},
    gateway: {},
    leaf: {},
    mqtt: {},
    websocket: {}
  }
  if (server.authenticator.required) body.auth_required = true
  const jetstream = jetStreamReports.get(server)
  if (jetstream !== undefined) body.jetstream = jetstream.varz()
  return body
}

const sortKeys: Record<string, (a: ClientConnection, b: ClientConnection) => number> = {
  cid: (a, b) => a.cid - b.cid,
  start: (a, b) => a.start.getTime() - b.start.getTime(),
  subs: (a, b) => b.subscriptions.size - a.subscriptions.size,
  pending: (a, b) => b.pendingBytes - a.pendingBytes,
  msgs_to: (a, b) => b.outMsgs - a.outMsgs,
  msgs_from: (a, b) => b.inMsgs - a.inMsgs,
  bytes_to: (a, b) => b.outBytes - a.outBytes,
  bytes_from: (a, b) => b.inBytes - a.inBytes,
  last: (a, b) => b.lastActivity - a.lastActivity,
  idle: (a, b) => a.lastActivity - b.lastActivity,
  uptime: (a, b) => a.start.getTime() - b.start.getTime(),
  stop: (a, b) => (b.stopTime?.getTime() ?? 0) - (a.stopTime?.getTime() ?? 0),
  reason: (a, b) => (a.closeReason ?? "").localeCompare(b.closeReason ?? "")
}

class BadQuery extends Error {}

const integerParam = (query: URLSearchParams, name: string, fallback: number): number => {
  const raw = query.get(name)
  if (raw === null || raw === "") return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0) throw new BadQuery(`invalid value for ${name}: ${raw}`)
  return value
}

const booleanParam = (query: URLSearchParams, name: string): boolean | "detail" => {
  const raw = query.get(name)
  if (raw === "detail") return "detail"
  return raw === "1" || raw === "true"
}

const connectionInfo = (client: ClientConnection, now: number, subs: boolean | "detail", withAuth: boolean) => {
  const info: Record<string, unknown> = {
    cid: client.cid,
    kind: "Client",
    type: "nats",
    ip: client.ip,
    port: client.port,
    start: client.start.toISOString(),
    last_activity: new Date(client.lastActivity).toISOString(),
    uptime: formatUptime((client.stopTime?.getTime() ?? now) - client.start.getTime()),
    idle: formatUptime(now - client.lastActivity),
    pending_bytes: client.closed ? 0 : client.pendingBytes,
    in_msgs: client.inMsgs,
    out_msgs: client.outMsgs,
    in_bytes: client.inBytes,
    out_bytes: client.outBytes,
    subscriptions: client.subscriptions.size
  }
  if (client.stopTime !== undefined) {
    info.stop = client.stopTime.toISOString()
    info.reason = client.closeReason
  }
  if (client.name !== undefined) info.name = client.name
  if (client.lang !== undefined) info.lang = client.lang
  if (client.version !== undefined) info.version = client.version
  if (withAuth && client.user !== undefined) info.authorized_user = client.user
  if (subs === "detail") {
    info.subscriptions_list_detail = [...client.subscriptions.values()].map((subscription) => ({
      subject: display(subscription.subject),
      ...(subscription.queue === undefined ? {} : { qgroup: display(subscription.queue) }),
      sid: subscription.sid,
      msgs: subscription.delivered,
      ...(subscription.max > 0 ? { max: subscription.max } : {}),
      cid: client.cid
    }))
  } else if (subs) {
    info.subscriptions_list = [...client.subscriptions.values()].map((subscription) => display(subscription.subject))
  }
  return info
}

const connz = (server: Server, query: URLSearchParams) => {
  const sort = query.get("sort") ?? "cid"
  const compare = sortKeys[sort]
  if (compare === undefined) throw new BadQuery(`invalid sorting option: ${sort}`)
  const state = query.get("state") ?? "open"
  if (state !== "open" && state !== "closed" && state !== "any") throw new BadQuery(`invalid connection state: ${state}`)
  const offset = integerParam(query, "offset", 0)
  const limit = integerParam(query, "limit", 1024)
  const cid = integerParam(query, "cid", 0)
  const subs = booleanParam(query, "subs")
  const withAuth = booleanParam(query, "auth") !== false
  const user = query.get("user")
  let clients: ClientConnection[] =
    state === "open" ? [...server.clients.values()] : state === "closed" ? [...server.closedClients] : [...server.clients.values(), ...server.closedClients]
  if (cid > 0) clients = clients.filter((client) => client.cid === cid)
  if (user !== null) clients = clients.filter((client) => client.user === user)
  clients.sort(compare)
  const now = Date.now()
  return {
    server_id: server.serverId,
    now: new Date(now).toISOString(),
    num_connections: Math.max(0, Math.min(limit, clients.length - offset)),
    total: clients.length,
    offset,
    limit,
    connections: clients.slice(offset, offset + limit).map((client) => connectionInfo(client, now, subs, withAuth))
  }
}

const subsz = (server: Server, query: URLSearchParams) => {
  const stats = server.sublist.stats()
  const offset = integerParam(query, "offset", 0)
  const limit = integerParam(query, "limit", 1024)
  const test = query.get("test")
  const body: Record<string, unknown> = {
    server_id: server.serverId,
    now: new Date().toISOString(),
    num_subscriptions: stats.numSubscriptions,
    num_cache: stats.numCache,
    num_inserts: stats.numInserts,
    num_removes: stats.numRemoves,
    num_matches: stats.numMatches,
    cache_hit_rate: stats.cacheHitRate,
    max_fanout: stats.maxFanout,
    avg_fanout: stats.avgFanout
  }
  if (booleanParam(query, "subs") || test !== null) {
    let subscriptions = [...server.sublist.subscribers()]
    if (test !== null) {
      const result = server.sublist.match(test)
      const matching = new Set([...result.plain, ...result.queues.flat()])
      subscriptions = subscriptions.filter((subscription) => matching.has(subscription))
    }
    body.total = subscriptions.length
    body.offset = offset
    body.limit = limit
    body.subscriptions_list = subscriptions.slice(offset, offset + limit).map((subscription) => ({
      subject: display(subscription.subject),
      ...(subscription.queue === undefined ? {} : { qgroup: display(subscription.queue) }),
      sid: subscription.sid,
      msgs: subscription.delivered,
      ...(subscription.max > 0 ? { max: subscription.max } : {}),
      cid: subscription.owner.cid
    }))
  }
  return body
}

const jsonResponse = (body: unknown, status = 200) =>
  HttpServerResponse.text(JSON.stringify(body, null, 2), {
    status,
    contentType: "application/json",
    headers: { "access-control-allow-origin": "*" }
  })

const endpoints = ["varz", "connz", "subsz", "subscriptionsz", "jsz", "healthz"] as const

const indexPage = `<html><body><h1>nex node monitoring</h1><ul>${endpoints.map((name) => `<li><a href="/${name}">/${name}</a></li>`).join("")}</ul></body></html>`

const makeApp = (server: Server, options: MonitoringOptions) => {
  const cpu = new CpuSampler()
  const requestStats: Record<string, number> = {}
  const handle = (path: string, build: (query: URLSearchParams) => unknown) =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      requestStats[path] = (requestStats[path] ?? 0) + 1
      const query = new URL(request.url, "http://localhost").searchParams
      try {
        return jsonResponse(build(query))
      } catch (error) {
        if (error instanceof BadQuery) return HttpServerResponse.text(error.message, { status: 400 })
        throw error
      }
    })
  return HttpRouter.empty.pipe(
    HttpRouter.get("/", Effect.succeed(HttpServerResponse.html(indexPage))),
    HttpRouter.get("/varz", handle("/varz", () => varz(server, options, cpu, requestStats))),
    HttpRouter.get("/connz", handle("/connz", (query) => connz(server, query))),
    HttpRouter.get("/subsz", handle("/subsz", (query) => subsz(server, query))),
    HttpRouter.get("/subscriptionsz", handle("/subscriptionsz", (query) => subsz(server, query))),
    HttpRouter.get(
      "/jsz",
      handle("/jsz", (query) => jetStreamReports.get(server)?.jsz(query) ?? { server_id: server.serverId, now: new Date().toISOString(), disabled: true })
    ),
    HttpRouter.get(
      "/healthz",
      Effect.sync(() => {
        requestStats["/healthz"] = (requestStats["/healthz"] ?? 0) + 1
        return HttpServerResponse.text(JSON.stringify({ status: "ok" }), { contentType: "application/json" })
      })
    )
  )
}

/** nats-server's monitoring endpoints over HTTP (/varz, /connz, /subsz, /jsz, /healthz). */
export const layer = (options: MonitoringOptions): Layer.Layer<never, MonitoringStartError, Broker> =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const broker = yield* Broker
      const app = makeApp(broker.server, options)
      return HttpServer.serve(app).pipe(
        Layer.provide(NodeHttpServer.layer(() => createServer(), { host: options.host, port: options.port })),
        Layer.mapError(
          (cause) =>
            new MonitoringStartError({
              message: String(cause).includes("EADDRINUSE")
                ? `monitoring port ${options.host}:${options.port} is already in use`
                : `cannot start monitoring on ${options.host}:${options.port}: ${String(cause)}`,
              cause
            })
        ),
        Layer.tap(() => Effect.logInfo("monitoring listening").pipe(Effect.annotateLogs({ url: `http://${options.host}:${options.port}` })))
      )
    })
  )
