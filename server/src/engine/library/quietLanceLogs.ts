/**
 * LanceDB's native logger writes warnings (e.g. k-means "clusters are empty" during index builds)
 * straight to stderr, and reads LANCEDB_LOG once, when the native module loads. The engine never
 * prints, so default it to errors only. Import this module BEFORE '@lancedb/lancedb'.
 * A user who sets LANCEDB_LOG themselves keeps their setting.
 */
if (process.env.LANCEDB_LOG === undefined) process.env.LANCEDB_LOG = 'error';
export {};
