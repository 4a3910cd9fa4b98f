import type { z } from "zod"

// The parts of zod 4's schema definitions we read to describe a number's allowed range.
interface SchemaNode {
  readonly _zod: {
    readonly def: {
      readonly type: string
      readonly innerType?: SchemaNode
      readonly shape?: Readonly<Record<string, SchemaNode>>
      readonly element?: SchemaNode
      readonly checks?: ReadonlyArray<{ readonly _zod: { readonly def: { readonly check: string; readonly value?: unknown; readonly inclusive?: boolean } } }>
    }
  }
}

const wrappers = new Set(["optional", "default", "prefault", "nullable", "readonly", "nonoptional"])

const unwrap = (schema: SchemaNode | undefined): SchemaNode | undefined => {
  let current = schema
  while (current !== undefined && wrappers.has(current._zod.def.type)) current = current._zod.def.innerType
  return current
}

const schemaAt = (root: SchemaNode, path: ReadonlyArray<PropertyKey>): SchemaNode | undefined => {
  let current: SchemaNode | undefined = root
  for (const key of path) {
    const definition: SchemaNode["_zod"]["def"] | undefined = unwrap(current)?._zod.def
    if (definition?.type === "object" && typeof key === "string") current = definition.shape?.[key]
    else if (definition?.type === "array") current = definition.element
    else return undefined
  }
  return unwrap(current)
}

/** "from 0 to 65535", "greater than 0 and at most 1024": the whole range a number field accepts. */
const numberRange = (root: SchemaNode, path: ReadonlyArray<PropertyKey>): string | undefined => {
  const schema = schemaAt(root, path)
  if (schema?._zod.def.type !== "number") return undefined
  let lower: { value: number; inclusive: boolean } | undefined
  let upper: { value: number; inclusive: boolean } | undefined
  for (const check of schema._zod.def.checks ?? []) {
    const { check: kind, value, inclusive } = check._zod.def
    if (typeof value !== "number") continue
    if (kind === "greater_than") lower = { value, inclusive: inclusive === true }
    if (kind === "less_than") upper = { value, inclusive: inclusive === true }
  }
  if (lower?.inclusive && upper?.inclusive) return `from ${lower.value} to ${upper.value}`
  const parts = [
    lower === undefined ? undefined : `${lower.inclusive ? "at least" : "greater than"} ${lower.value}`,
    upper === undefined ? undefined : `${upper.inclusive ? "at most" : "less than"} ${upper.value}`
  ].filter((part) => part !== undefined)
  return parts.length === 0 ? undefined : parts.join(" and ")
}

const describeValue = (value: unknown): string => {
  if (value === null) return "null"
  if (Array.isArray(value)) return "an array"
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  if (typeof value === "object") return "an object"
  return `${typeof value} ${String(value)}`
}

const expectedNames: Record<string, string> = {
  number: "a number",
  int: "a whole number",
  string: "a string",
  boolean: "true or false",
  array: "an array",
  object: "an object"
}

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>((text, key) => (typeof key === "number" ? `${text}[${key}]` : text === "" ? String(key) : `${text}.${String(key)}`), "")

// Of a union's branches, the one that got furthest into the input is the one the user meant.
const closestBranch = (branches: ReadonlyArray<ReadonlyArray<z.core.$ZodIssue>>): z.core.$ZodIssue | undefined => {
  let best: z.core.$ZodIssue | undefined
  for (const branch of branches) {
    const deepest = branch.reduce<z.core.$ZodIssue | undefined>((found, issue) => (found === undefined || issue.path.length > found.path.length ? issue : found), undefined)
    if (deepest !== undefined && (best === undefined || deepest.path.length > best.path.length)) best = deepest
  }
  return best
}

/**
 * One line for the first thing wrong with a config, naming the field's path and the problem,
 * e.g. `server.port: expected a number from 0 to 65535`.
 */
export const describeConfigProblem = (schema: z.ZodType, issues: ReadonlyArray<z.core.$ZodIssue>): string => {
  const root = schema as unknown as SchemaNode
  const describe = (issue: z.core.$ZodIssue, prefix: ReadonlyArray<PropertyKey>): string => {
    const path = [...prefix, ...issue.path]
    const where = path.length === 0 ? "" : `${formatPath(path)}: `
    switch (issue.code) {
      case "invalid_type": {
        if (!("input" in issue) || issue.input === undefined) return `${where}is required`
        const range = issue.expected === "number" || issue.expected === "int" ? numberRange(root, path) : undefined
        return `${where}expected ${expectedNames[issue.expected] ?? issue.expected}${range === undefined ? "" : ` ${range}`}, got ${describeValue(issue.input)}`
      }
      case "too_big":
      case "too_small": {
        if (issue.origin === "number") {
          const range = numberRange(root, path)
          const bound = issue.code === "too_big" ? `${issue.inclusive ? "at most" : "less than"} ${issue.maximum}` : `${issue.inclusive ? "at least" : "greater than"} ${issue.minimum}`
          return `${where}expected a number ${range ?? bound}`
        }
        if (issue.origin === "string" && issue.code === "too_small" && issue.minimum === 1) return `${where}must not be empty`
        if (issue.origin === "array" && issue.code === "too_small") return `${where}needs at least ${issue.minimum} ${issue.minimum === 1 ? "entry" : "entries"}`
        return `${where}${issue.message}`
      }
      case "invalid_value":
        return `${where}expected one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}`
      case "unrecognized_keys":
        return `${formatPath([...path, issue.keys[0]])}: unknown field`
      case "invalid_union": {
        const closest = closestBranch(issue.errors)
        return closest === undefined ? `${where}${issue.message}` : describe(closest, path)
      }
      default:
        return `${where}${issue.message}`
    }
  }
  return issues.length === 0 ? "invalid" : describe(issues[0], [])
}
