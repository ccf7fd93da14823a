namespace SessionKit;

/// <summary>One page of a session listing.</summary>
/// <param name="Sessions">The sessions on this page (live at the time of the query).</param>
/// <param name="NextCursor">The cursor of the next page, or <see langword="null"/> when this is the last page.</param>
public sealed record SessionPage(IReadOnlyList<Session> Sessions, string? NextCursor);
