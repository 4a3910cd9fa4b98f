import { comma } from "./humanize.ts"

type Row =
  | { readonly kind: "row"; readonly label: string; readonly value: string }
  | { readonly kind: "title"; readonly title: string }
  | { readonly kind: "line"; readonly text: string }

export type ColumnValue = string | number | boolean | ReadonlyArray<string>

const formatValue = (value: ColumnValue): string => {
  if (typeof value === "number") return comma(value)
  if (typeof value === "boolean") return String(value)
  if (typeof value === "string") return value
  return value.join(", ")
}

/**
 * natscli's report layout (its `columns` writer): a heading, then "Label: value" rows whose
 * labels are right-aligned across the whole report, grouped under "Title:" sections.
 */
export class Columns {
  readonly #heading: string
  readonly #rows: Array<Row> = []

  constructor(heading: string) {
    this.#heading = heading
  }

  row(label: string, value: ColumnValue): this {
    this.#rows.push({ kind: "row", label, value: formatValue(value) })
    return this
  }

  rowIf(label: string, value: ColumnValue, condition: boolean): this {
    return condition ? this.row(label, value) : this
  }

  section(title: string): this {
    this.#rows.push({ kind: "title", title })
    return this
  }

  /** A line outside the columns; an empty one separates sections. */
  line(text = ""): this {
    this.#rows.push({ kind: "line", text })
    return this
  }

  render(): string {
    const longest = Math.max(0, ...this.#rows.map((row) => (row.kind === "row" ? row.label.length : 0)))
    const lines: Array<string> = []
    if (this.#heading !== "") lines.push(this.#heading, "")
    let previous: Row | undefined
    this.#rows.forEach((row, index) => {
      switch (row.kind) {
        case "title": {
          // A blank line before a section, unless one is already there.
          const afterBlank = previous?.kind === "line" && previous.text === ""
          if (index !== 0 && previous?.kind !== "title" && !afterBlank) lines.push("")
          lines.push(`${row.title}:`, "")
          break
        }
        case "row": {
          const padding = " ".repeat(longest - row.label.length + 2)
          lines.push(row.label === "" ? `${padding}  ${row.value}` : `${padding}${row.label}: ${row.value}`)
          break
        }
        case "line":
          if (previous?.kind === "title" && row.text === "") return
          lines.push(row.text)
      }
      previous = row
    })
    return lines.map((line) => `${line}\n`).join("")
  }
}
