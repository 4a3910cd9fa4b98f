export { type Disk, type DiskFile, nodeDisk, nodeDiskSyncActive, readWholeFile } from "./Disk.ts"
export { type FileMessageStore, type FileStoreOptions, type FileStoreStats, openFileStore } from "./FileStore.ts"
export { type MemoryStoreOptions, openMemoryStore } from "./MemoryStore.ts"
export {
  type Appended,
  type AppendRejection,
  appendRejectionText,
  type AppendResult,
  type DurabilityListener,
  type MessageStore,
  noLimits,
  type PurgeRequest,
  type ReadMode,
  type Rejected,
  type StoredMessage,
  type StoreLimits,
  type StoreState
} from "./MessageStore.ts"
export { type CutOptions, DiskGone, PowerCutDisk } from "./PowerCutDisk.ts"
export type { RecoveryReport } from "./Recovery.ts"
export type { SyncPolicy } from "./SegmentLog.ts"
export { currentTimestamp } from "./StoreEngine.ts"
export { compileFilter, type FilterInput, type SubjectFilter } from "./SubjectFilter.ts"
export { writeFileAtomic } from "./writeFileAtomic.ts"
