import { UsageError } from "./CliError.ts"
import { parseDuration } from "./duration.ts"

export type FlagKind = "string" | "strings" | "integer" | "duration" | "boolean"

export interface FlagSpec {
  readonly long: string
  readonly short?: string
  readonly kind: FlagKind
  readonly description: string
  /** Shown in help instead of the kind, e.g. "URL". */
  readonly placeholder?: string
}

export interface ArgumentSpec {
  readonly name: string
  readonly required: boolean
  readonly description: string
}

export interface CommandSpec {
  readonly name: string
  readonly aliases: ReadonlyArray<string>
  readonly summary: string
  readonly arguments: ReadonlyArray<ArgumentSpec>
  readonly flags: ReadonlyArray<FlagSpec>
  readonly examples: ReadonlyArray<string>
}

export interface ProgramSpec {
  readonly name: string
  readonly summary: string
  readonly version: string
  readonly globalFlags: ReadonlyArray<FlagSpec>
  readonly commands: ReadonlyArray<CommandSpec>
}

type FlagValue = string | ReadonlyArray<string> | number | boolean

/** What the user typed for one command, already checked against its spec. */
export class ParsedArguments {
  readonly #positional: ReadonlyMap<string, string>
  readonly #flags: ReadonlyMap<string, FlagValue>

  constructor(positional: ReadonlyMap<string, string>, flags: ReadonlyMap<string, FlagValue>) {
    this.#positional = positional
    this.#flags = flags
  }

  argument(name: string): string | undefined {
    return this.#positional.get(name)
  }

  has(long: string): boolean {
    return this.#flags.has(long)
  }

  string(long: string): string | undefined {
    const value = this.#flags.get(long)
    return typeof value === "string" ? value : undefined
  }

  strings(long: string): ReadonlyArray<string> {
    const value = this.#flags.get(long)
    return Array.isArray(value) ? value : []
  }

  integer(long: string, fallback: number): number {
    const value = this.#flags.get(long)
    return typeof value === "number" ? value : fallback
  }

  /** A duration flag in milliseconds. */
  duration(long: string, fallback: number): number {
    return this.integer(long, fallback)
  }

  boolean(long: string): boolean {
    return this.#flags.get(long) === true
  }
}

export type Invocation =
  | { readonly kind: "help"; readonly command?: CommandSpec | undefined }
  | { readonly kind: "version" }
  | { readonly kind: "run"; readonly command: CommandSpec; readonly arguments: ParsedArguments }

const displayFlag = (spec: FlagSpec): string => `--${spec.long}`

const parseFlagValue = (spec: FlagSpec, raw: string): string | number => {
  switch (spec.kind) {
    case "integer":
      if (!/^\d+$/.test(raw)) throw new UsageError(`invalid value "${raw}" for ${displayFlag(spec)}: expected a whole number`)
      return Number(raw)
    case "duration": {
      const milliseconds = parseDuration(raw)
      if (milliseconds === undefined) {
        throw new UsageError(`invalid duration "${raw}" for ${displayFlag(spec)}: expected e.g. 500ms, 2s or 1m`)
      }
      return milliseconds
    }
    default:
      return raw
  }
}

const parseBoolean = (spec: FlagSpec, raw: string): boolean => {
  if (raw === "true") return true
  if (raw === "false") return false
  throw new UsageError(`invalid value "${raw}" for ${displayFlag(spec)}: expected true or false`)
}

/**
 * Reads argv the way natscli's parser does: the command may come after global flags, flags and
 * arguments may be mixed, `--flag value`, `--flag=value`, `-f value`, `-fvalue` and grouped short
 * booleans (`-rq`) all work, repeatable flags collect, and `--` ends the flags.
 */
export const parseCommandLine = (program: ProgramSpec, argv: ReadonlyArray<string>): Invocation => {
  let command: CommandSpec | undefined
  const positional: Array<string> = []
  const flags = new Map<string, FlagValue>()
  let help = false
  let version = false

  const findFlag = (matches: (spec: FlagSpec) => boolean): FlagSpec | undefined =>
    command?.flags.find(matches) ?? program.globalFlags.find(matches)

  const store = (spec: FlagSpec, value: FlagValue): void => {
    if (spec.kind === "strings") flags.set(spec.long, [...((flags.get(spec.long) as ReadonlyArray<string>) ?? []), value as string])
    else flags.set(spec.long, value)
  }

  const takeValue = (index: number, written: string): string => {
    const value = argv[index]
    if (value === undefined) throw new UsageError(`${written} needs a value`)
    return value
  }

  const takePositional = (token: string): void => {
    if (command === undefined) {
      command = program.commands.find((candidate) => candidate.name === token || candidate.aliases.includes(token))
      if (command === undefined) throw new UsageError(`unknown command "${token}" (try ${program.name} --help)`)
    } else {
      positional.push(token)
    }
  }

  for (let index = 0; index < argv.length; index++) {
    const token = argv[index]
    if (token === "--") {
      for (const rest of argv.slice(index + 1)) takePositional(rest)
      break
    }
    if (token === "--help" || token === "-h") {
      help = true
      continue
    }
    if (token === "--version" && command === undefined) {
      version = true
      continue
    }
    if (token.startsWith("--")) {
      const equals = token.indexOf("=")
      const name = token.slice(2, equals === -1 ? undefined : equals)
      const spec = findFlag((candidate) => candidate.long === name)
      if (spec === undefined) throw new UsageError(`unknown flag --${name}${command === undefined ? "" : ` for ${program.name} ${command.name}`}`)
      if (spec.kind === "boolean") {
        store(spec, equals === -1 ? true : parseBoolean(spec, token.slice(equals + 1)))
      } else {
        const raw = equals === -1 ? takeValue(++index, `--${name}`) : token.slice(equals + 1)
        store(spec, parseFlagValue(spec, raw))
      }
      continue
    }
    if (token.startsWith("-") && token.length > 1) {
      for (let position = 1; position < token.length; position++) {
        const letter = token[position]
        const spec = findFlag((candidate) => candidate.short === letter)
        if (spec === undefined) throw new UsageError(`unknown flag -${letter}${command === undefined ? "" : ` for ${program.name} ${command.name}`}`)
        if (spec.kind === "boolean") {
          store(spec, true)
          continue
        }
        const attached = token.slice(position + 1)
        const raw = attached !== "" ? attached : takeValue(++index, `-${letter}`)
        store(spec, parseFlagValue(spec, raw))
        break
      }
      continue
    }
    takePositional(token)
  }

  if (version) return { kind: "version" }
  if (help || command === undefined) return { kind: "help", command }

  const named = new Map<string, string>()
  command.arguments.forEach((argument, index) => {
    const value = positional[index]
    if (value !== undefined) named.set(argument.name, value)
    else if (argument.required) throw new UsageError(`missing ${argument.name.toUpperCase()} (usage: ${usageLine(program, command!)})`)
  })
  if (positional.length > command.arguments.length) {
    throw new UsageError(`unexpected argument "${positional[command.arguments.length]}" (usage: ${usageLine(program, command)})`)
  }
  return { kind: "run", command, arguments: new ParsedArguments(named, flags) }
}

const usageLine = (program: ProgramSpec, command: CommandSpec): string => {
  const positional = command.arguments.map((argument) =>
    argument.required ? argument.name.toUpperCase() : `[${argument.name.toUpperCase()}]`
  )
  return [program.name, command.name, ...positional, "[flags]"].join(" ")
}

const flagLines = (flags: ReadonlyArray<FlagSpec>): Array<string> => {
  const left = flags.map((flag) => {
    const value = flag.kind === "boolean" ? "" : `=${flag.placeholder ?? flag.kind.replace(/s$/, "").toUpperCase()}`
    return `${flag.short === undefined ? "    " : `-${flag.short}, `}--${flag.long}${value}`
  })
  const width = Math.max(...left.map((text) => text.length)) + 2
  return left.map((text, index) => `  ${text.padEnd(width)}${flags[index].description}`)
}

/** Help for the program, or for one command when given. */
export const helpText = (program: ProgramSpec, command?: CommandSpec): string => {
  if (command === undefined) {
    const names = program.commands.map((spec) => [spec.name, ...spec.aliases].join(", "))
    const width = Math.max(...names.map((name) => name.length)) + 2
    return [
      `usage: ${program.name} [flags] COMMAND [arguments]`,
      "",
      program.summary,
      "",
      "Commands:",
      ...program.commands.map((spec, index) => `  ${names[index].padEnd(width)}${spec.summary}`),
      "",
      "Global flags:",
      ...flagLines(program.globalFlags),
      "",
      `Run "${program.name} COMMAND --help" for a command's arguments and flags.`,
      ""
    ].join("\n")
  }
  return [
    `usage: ${usageLine(program, command)}`,
    "",
    command.summary,
    "",
    "Arguments:",
    ...command.arguments.map((argument) => `  ${argument.name.toUpperCase().padEnd(10)}${argument.description}`),
    "",
    "Flags:",
    ...flagLines(command.flags),
    "",
    "Global flags:",
    ...flagLines(program.globalFlags),
    "",
    "Examples:",
    ...command.examples.map((example) => `  ${example}`),
    ""
  ].join("\n")
}
