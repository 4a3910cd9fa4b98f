export type Alignment = "left" | "right"

export interface TableColumn {
  readonly header: string
  readonly align?: Alignment
}

const pad = (text: string, width: number, align: Alignment): string => (align === "right" ? text.padStart(width) : text.padEnd(width))

/** A table in natscli's default style (go-pretty's rounded box) with a centred title. */
export const renderTable = (title: string, columns: ReadonlyArray<TableColumn>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = columns.map((column, index) => Math.max(column.header.length, ...rows.map((row) => row[index].length)))
  // The title spans every column with its separators; a long title widens the last column.
  const inner = (): number => widths.reduce((sum, width) => sum + width + 2, 0) + widths.length - 1
  if (title.length + 2 > inner()) widths[widths.length - 1] += title.length + 2 - inner()
  const rule = (left: string, middle: string, right: string): string => `${left}${widths.map((width) => "─".repeat(width + 2)).join(middle)}${right}`
  const cells = (values: ReadonlyArray<string>, aligns: ReadonlyArray<Alignment>): string =>
    `│${values.map((value, index) => ` ${pad(value, widths[index], aligns[index])} `).join("│")}│`
  // go-pretty centres within one space of padding each side, putting the odd space on the left.
  const space = inner() - 2 - title.length
  const right = Math.floor(space / 2)
  const titleLine = `│ ${" ".repeat(space - right)}${title}${" ".repeat(right)} │`
  const lines = [
    `╭${"─".repeat(inner())}╮`,
    titleLine,
    rule("├", "┬", "┤"),
    cells(columns.map((column) => column.header), columns.map(() => "left")),
    rule("├", "┼", "┤"),
    ...rows.map((row) => cells(row, columns.map((column) => column.align ?? "left"))),
    rule("╰", "┴", "╯")
  ]
  return lines.map((line) => `${line}\n`).join("")
}
