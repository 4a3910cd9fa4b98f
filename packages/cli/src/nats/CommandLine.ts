import { UsageError } from "./CliError.ts"
import { parseLongDuration } from "./longDuration.ts"
import { parseSize } from "./size.ts"

/** `size` reads bytes with binary units ("1KB", "10MiB"); `duration` also takes natscli's d, w, M and y. */
export type FlagKind = "string" | "strings" | "integer" | "size" | "duration" | "boolean"

export interface FlagSpec {
  readonly long: string
  readonly short?: string
  readonly kind: FlagKind
  readonly description: string
  /** Shown in help instead of the kind, e.g. "URL". */
  readonly placeholder?: string
  /** The values a string flag accepts, as named in help and errors. */
  readonly choices?: ReadonlyArray<string>
  /** Other spellings of a choice that natscli accepts, mapped to the choice, e.g. { work: "workqueue" }. */
  readonly choiceAliases?: Readonly<Record<string, string>>
  /** Accepts -1 (natscli's "unlimited") for an integer, size or duration flag; it is read as -1. */
  readonly unlimited?: boolean
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

/** A command with subcommands, as `nats stream add`. */
export interface CommandGroupSpec {
  readonly name: string
  readonly aliases: ReadonlyArray<string>
  readonly summary: string
  readonly commands: ReadonlyArray<CommandSpec>
}

export interface ProgramSpec {
  readonly name: string
  readonly summary: string
  readonly version: string
  readonly globalFlags: ReadonlyArray<FlagSpec>
  readonly commands: ReadonlyArray<CommandSpec | CommandGroupSpec>
}

const isGroup = (spec: CommandSpec | CommandGroupSpec): spec is CommandGroupSpec => "commands" in spec

const matchesName = (spec: CommandSpec | CommandGroupSpec, token: string): boolean => spec.name === token || spec.aliases.includes(token)

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

  /** A size flag in bytes. */
  size(long: string, fallback: number): number {
    return this.integer(long, fallback)
  }

  /** A duration flag in milliseconds. */
  duration(long: string, fallback: number): number {
    return this.integer(long, fallback)
  }

  /** A boolean flag; `fallback` when it was not given (natscli has flags that default to true). */
  boolean(long: string, fallback = false): boolean {
    const value = this.#flags.get(long)
    return typeof value === "boolean" ? value : fallback
  }
}

export type Invocation =
  | { readonly kind: "help"; readonly command?: CommandSpec | undefined; readonly group?: CommandGroupSpec | undefined }
  | { readonly kind: "version" }
  | { readonly kind: "run"; readonly command: CommandSpec; readonly arguments: ParsedArguments }

const displayFlag = (spec: FlagSpec): string => `--${spec.long}`

const unlimitedHint = (spec: FlagSpec): string => (spec.unlimited ? ", or -1 for unlimited" : "")

const listChoices = (choices: ReadonlyArray<string>): string =>
  choices.length === 1 ? choices[0] : `${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}`

const parseFlagValue = (spec: FlagSpec, raw: string): string | number => {
  if (spec.unlimited && raw === "-1" && spec.kind !== "string" && spec.kind !== "strings") return -1
  switch (spec.kind) {
    case "integer":
      if (!/^\d+$/.test(raw)) throw new UsageError(`invalid value "${raw}" for ${displayFlag(spec)}: expected a whole number${unlimitedHint(spec)}`)
      return Number(raw)
    case "size": {
      const bytes = parseSize(raw)
      if (bytes === undefined) {
        throw new UsageError(`invalid size "${raw}" for ${displayFlag(spec)}: expected e.g. 512, 1KB, 10MiB or 1GB${unlimitedHint(spec)}`)
      }
      return bytes
    }
    case "duration": {
      const milliseconds = parseLongDuration(raw)
      if (milliseconds === undefined) {
        throw new UsageError(`invalid duration "${raw}" for ${displayFlag(spec)}: expected e.g. 500ms, 2s or 1m${unlimitedHint(spec)}`)
      }
      return milliseconds
    }
    default: {
      if (spec.choices === undefined) return raw
      const choice = spec.choices.find((candidate) => candidate === raw.toLowerCase()) ?? spec.choiceAliases?.[raw.toLowerCase()]
      if (choice === undefined) throw new UsageError(`invalid value "${raw}" for ${displayFlag(spec)}: expected ${listChoices(spec.choices)}`)
      return choice
    }
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
  let group: CommandGroupSpec | undefined
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

  const forCommand = (): string => (command === undefined ? "" : ` for ${commandPath(program, command)}`)

  const takePositional = (token: string): void => {
    if (command !== undefined) {
      positional.push(token)
    } else if (group !== undefined) {
      command = group.commands.find((candidate) => matchesName(candidate, token))
      if (command === undefined) {
        throw new UsageError(`unknown command "${token}" for ${program.name} ${group.name} (try ${program.name} ${group.name} --help)`)
      }
    } else {
      const found = program.commands.find((candidate) => matchesName(candidate, token))
      if (found === undefined) throw new UsageError(`unknown command "${token}" (try ${program.name} --help)`)
      if (isGroup(found)) group = found
      else command = found
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
    if (token === "--version" && command === undefined && group === undefined) {
      version = true
      continue
    }
    if (token.startsWith("--")) {
      const equals = token.indexOf("=")
      const name = token.slice(2, equals === -1 ? undefined : equals)
      const spec = findFlag((candidate) => candidate.long === name)
      // natscli's parser also accepts --no-FLAG to turn a boolean flag off.
      const negated = spec === undefined && name.startsWith("no-") ? findFlag((candidate) => candidate.long === name.slice(3) && candidate.kind === "boolean") : undefined
      if (negated !== undefined && equals === -1) {
        store(negated, false)
        continue
      }
      if (spec === undefined) throw new UsageError(`unknown flag --${name}${forCommand()}`)
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
        if (spec === undefined) throw new UsageError(`unknown flag -${letter}${forCommand()}`)
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
  if (help || command === undefined) return { kind: "help", command, group }

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

/** "nats publish" or, for a subcommand, "nats stream add". */
const commandPath = (program: ProgramSpec, command: CommandSpec): string => {
  const group = program.commands.find((spec) => isGroup(spec) && spec.commands.includes(command))
  return group === undefined ? `${program.name} ${command.name}` : `${program.name} ${group.name} ${command.name}`
}

const usageLine = (program: ProgramSpec, command: CommandSpec): string => {
  const positional = command.arguments.map((argument) =>
    argument.required ? argument.name.toUpperCase() : `[${argument.name.toUpperCase()}]`
  )
  return [commandPath(program, command), ...positional, "[flags]"].join(" ")
}

const flagLines = (flags: ReadonlyArray<FlagSpec>): Array<string> => {
  const left = flags.map((flag) => {
    const value = flag.kind === "boolean" ? "" : `=${flag.placeholder ?? flag.choices?.join("|") ?? flag.kind.replace(/s$/, "").toUpperCase()}`
    return `${flag.short === undefined ? "    " : `-${flag.short}, `}--${flag.long}${value}`
  })
  const width = Math.max(...left.map((text) => text.length)) + 2
  return left.map((text, index) => `  ${text.padEnd(width)}${flags[index].description}`)
}

const commandList = (commands: ReadonlyArray<CommandSpec | CommandGroupSpec>): Array<string> => {
  const names = commands.map((spec) => [spec.name, ...spec.aliases].join(", "))
  const width = Math.max(...names.map((name) => name.length)) + 2
  return commands.map((spec, index) => `  ${names[index].padEnd(width)}${spec.summary}`)
}

/** Help for the program, or for the command or group of subcommands given. */
export const helpText = (program: ProgramSpec, spec?: CommandSpec | CommandGroupSpec): string => {
  const command = spec === undefined || isGroup(spec) ? undefined : spec
  const group = spec !== undefined && isGroup(spec) ? spec : undefined
  if (command === undefined) {
    const prefix = group === undefined ? program.name : `${program.name} ${group.name}`
    return [
      `usage: ${prefix} [flags] COMMAND [arguments]`,
      "",
      group?.summary ?? program.summary,
      "",
      "Commands:",
      ...commandList(group?.commands ?? program.commands),
      "",
      "Global flags:",
      ...flagLines(program.globalFlags),
      "",
      `Run "${prefix} COMMAND --help" for a command's arguments and flags.`,
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
