namespace SessionKit.Stores;

/// <summary>What one <see cref="FileSessionStore.SweepAsync"/> call did.</summary>
/// <param name="RemovedSessions">The expired sessions removed, as they were when removed.</param>
/// <param name="RemovedTempFiles">Temporary files left by crashed writers that were deleted.</param>
/// <param name="QuarantinedFiles">Unreadable session files moved to the quarantine folder.</param>
/// <param name="VisitedEntries">Directory entries examined (bounded by <see cref="FileSessionStoreOptions.SweepBatchSize"/>, give or take one shard).</param>
/// <param name="PassCompleted">
/// <see langword="true"/> when this call reached the end of the shard order: together with the calls since the last
/// such call, every shard has been visited once.
/// </param>
internal sealed record FileSessionSweepResult(
    IReadOnlyList<Session> RemovedSessions,
    int RemovedTempFiles,
    int QuarantinedFiles,
    int VisitedEntries,
    bool PassCompleted);
