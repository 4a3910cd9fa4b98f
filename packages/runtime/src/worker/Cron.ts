/** A cron expression that cannot be parsed; the message names the field. */
export class CronError extends Error {
  override readonly name = "CronError"
}

interface Field {
  readonly name: string
  readonly minimum: number
  readonly maximum: number
  readonly aliases?: ReadonlyArray<string>
}

const fields: ReadonlyArray<Field> = [
  { name: "minute", minimum: 0, maximum: 59 },
  { name: "hour", minimum: 0, maximum: 23 },
  { name: "day of month", minimum: 1, maximum: 31 },
  { name: "month", minimum: 1, maximum: 12, aliases: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] },
  // 7 is Sunday too; it is folded onto 0.
  { name: "day of week", minimum: 0, maximum: 7, aliases: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] }
]

const parseValue = (text: string, field: Field): number => {
  const alias = field.aliases?.indexOf(text.toLowerCase()) ?? -1
  if (alias >= 0) return alias + (field.name === "month" ? 1 : 0)
  if (!/^\d+$/.test(text)) throw new CronError(`${field.name}: '${text}' is not a number`)
  const value = Number(text)
  if (value < field.minimum || value > field.maximum) {
    throw new CronError(`${field.name}: ${value} is outside ${field.minimum}-${field.maximum}`)
  }
  return value
}

/** The set of values one field allows: lists of `*`, `n`, `a-b`, each with an optional `/step`. */
const parseField = (text: string, field: Field): ReadonlySet<number> => {
  const values = new Set<number>()
  for (const part of text.split(",")) {
    const [range, stepText, extra] = part.split("/")
    if (extra !== undefined || range === "") throw new CronError(`${field.name}: '${part}' is not valid`)
    const step = stepText === undefined ? 1 : Number(stepText)
    if (!Number.isInteger(step) || step < 1) throw new CronError(`${field.name}: step '${stepText}' is not a positive integer`)
    let low: number
    let high: number
    if (range === "*") {
      low = field.minimum
      high = field.maximum
    } else if (range.includes("-")) {
      const [lowText, highText] = range.split("-")
      low = parseValue(lowText, field)
      high = parseValue(highText, field)
      if (low > high) throw new CronError(`${field.name}: range '${range}' runs backwards`)
    } else {
      low = parseValue(range, field)
      // "5/15" means from 5 to the end in steps of 15.
      high = stepText === undefined ? low : field.maximum
    }
    for (let value = low; value <= high; value += step) values.add(field.name === "day of week" && value === 7 ? 0 : value)
  }
  return values
}

/**
 * A standard 5-field cron expression (minute hour day-of-month month day-of-week), evaluated in
 * UTC. As in Vixie cron, when both day fields are restricted a day matching either one fires.
 */
export class Cron {
  readonly #minutes: ReadonlySet<number>
  readonly #hours: ReadonlySet<number>
  readonly #daysOfMonth: ReadonlySet<number>
  readonly #months: ReadonlySet<number>
  readonly #daysOfWeek: ReadonlySet<number>
  readonly #dayOfMonthRestricted: boolean
  readonly #dayOfWeekRestricted: boolean

  constructor(expression: string) {
    const parts = expression.trim().split(/\s+/)
    if (parts.length !== 5) throw new CronError(`expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`)
    const [minutes, hours, daysOfMonth, months, daysOfWeek] = parts.map((part, index) => parseField(part, fields[index]))
    this.#minutes = minutes
    this.#hours = hours
    this.#daysOfMonth = daysOfMonth
    this.#months = months
    this.#daysOfWeek = daysOfWeek
    this.#dayOfMonthRestricted = !parts[2].startsWith("*")
    this.#dayOfWeekRestricted = !parts[4].startsWith("*")
    if (this.next(new Date(Date.UTC(2000, 0, 1))) === undefined) throw new CronError(`'${expression}' never fires`)
  }

  /** The first matching minute strictly after `after`, or undefined if none within 8 years. */
  next(after: Date): Date | undefined {
    const time = new Date(Math.floor(after.getTime() / 60_000) * 60_000 + 60_000)
    const limit = after.getTime() + 8 * 366 * 86_400_000
    while (time.getTime() <= limit) {
      if (!this.#months.has(time.getUTCMonth() + 1)) {
        time.setUTCMonth(time.getUTCMonth() + 1, 1)
        time.setUTCHours(0, 0, 0, 0)
      } else if (!this.#dayMatches(time)) {
        time.setUTCDate(time.getUTCDate() + 1)
        time.setUTCHours(0, 0, 0, 0)
      } else if (!this.#hours.has(time.getUTCHours())) {
        time.setUTCHours(time.getUTCHours() + 1, 0, 0, 0)
      } else if (!this.#minutes.has(time.getUTCMinutes())) {
        time.setUTCMinutes(time.getUTCMinutes() + 1, 0, 0)
      } else {
        return time
      }
    }
    return undefined
  }

  #dayMatches(time: Date): boolean {
    const byMonth = this.#daysOfMonth.has(time.getUTCDate())
    const byWeek = this.#daysOfWeek.has(time.getUTCDay())
    if (this.#dayOfMonthRestricted && this.#dayOfWeekRestricted) return byMonth || byWeek
    if (this.#dayOfMonthRestricted) return byMonth
    if (this.#dayOfWeekRestricted) return byWeek
    return true
  }
}
