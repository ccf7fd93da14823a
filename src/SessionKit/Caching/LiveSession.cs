namespace SessionKit.Caching;

/// <summary>A session together with the live object this node holds for it.</summary>
/// <typeparam name="T">The live object's type.</typeparam>
/// <param name="Session">The session snapshot this access returned (validated against the store or backplane).</param>
/// <param name="Value">The live object.</param>
public sealed record LiveSession<T>(Session Session, T Value)
    where T : class;
