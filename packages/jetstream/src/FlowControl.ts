/** nats-server's push flow control: a window starting at limit/16, doubling on each reply. */
const limit = 32 * 1024 * 1024

/**
 * Bytes sent to a push consumer's subscriber since it last answered a flow-control request. A
 * request goes out past half a window; delivery stops at a full window until the answer comes.
 */
export class FlowControl {
  private window = limit / 16
  private pendingBytes = 0
  private requestSize = 0
  /** The `$JS.FC...` subject of the outstanding request. */
  outstanding: string | undefined

  get blocked(): boolean {
    return this.outstanding !== undefined && this.pendingBytes > this.window
  }

  /** Counts a delivery; returns true when a new flow-control request should go out. */
  delivered(size: number): boolean {
    this.pendingBytes += size
    if (this.outstanding === undefined) return this.pendingBytes > this.window / 2
    if (this.pendingBytes - this.requestSize >= this.window) this.requestSize += size
    return false
  }

  requested(reply: string): void {
    this.outstanding = reply
    this.requestSize = this.pendingBytes
  }

  /** The client answered on `subject`; stale answers are ignored. Returns whether it counted. */
  answered(subject: string): boolean {
    if (subject !== this.outstanding) return false
    this.window = Math.min(this.window * 2, limit)
    this.pendingBytes = Math.max(0, this.pendingBytes - this.requestSize)
    this.outstanding = undefined
    this.requestSize = 0
    return true
  }
}
