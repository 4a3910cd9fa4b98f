// natscli reads sizes in binary units whatever the spelling: 1KB = 1K = 1KiB = 1024 bytes.
const unitShifts: Record<string, number> = {
  B: 0,
  K: 10,
  KB: 10,
  KIB: 10,
  M: 20,
  MB: 20,
  MIB: 20,
  G: 30,
  GB: 30,
  GIB: 30,
  T: 40,
  TB: 40,
  TIB: 40
}

const sizePattern = /^(\d+)\s*([A-Za-z]*)$/

/** Parses "512", "1KB", "10MiB" or "1GB" into bytes; undefined when malformed. */
export const parseSize = (text: string): number | undefined => {
  const match = sizePattern.exec(text.trim())
  if (match === null) return undefined
  const shift = match[2] === "" ? 0 : unitShifts[match[2].toUpperCase()]
  if (shift === undefined) return undefined
  const bytes = Number(match[1]) * 2 ** shift
  return Number.isSafeInteger(bytes) ? bytes : undefined
}

const binaryUnits = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]

/** Formats bytes the way natscli does (go-humanize IBytes): "55 B", "1.5 KiB", "10 MiB". */
export const formatBytes = (bytes: number): string => {
  if (bytes < 1024) return `${bytes} B`
  const exponent = Math.min(Math.floor(Math.log(bytes) / Math.log(1024)), binaryUnits.length - 1)
  const value = Math.floor((bytes / 1024 ** exponent) * 10 + 0.5) / 10
  return `${value < 10 ? value.toFixed(1) : value.toFixed(0)} ${binaryUnits[exponent]}`
}
