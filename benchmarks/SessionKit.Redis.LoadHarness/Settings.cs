using System.Globalization;

/// <summary>Which measurements a run makes: both (the default), or only the read or the write-cost cells.</summary>
internal enum HarnessMode
{
    All,
    Reads,
    Writes,
}

/// <summary>
/// Command-line settings: an optional mode (<c>reads</c> or <c>writes</c>) followed by options. Duration and rounds are
/// per mode unless given: reads default to 3 rounds of 3 s per cell, writes to 2 rounds of 2 s per side.
/// </summary>
internal sealed record Settings(HarnessMode Mode, TimeSpan? Duration, int? Rounds, int[] Callers, string? Redis)
{
    public static Settings Parse(string[] args)
    {
        var mode = HarnessMode.All;
        var start = 0;
        if (args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal))
        {
            mode = args[0] switch
            {
                "reads" => HarnessMode.Reads,
                "writes" => HarnessMode.Writes,
                _ => throw new ArgumentException($"Unknown mode {args[0]} (reads, writes, or none for both)."),
            };
            start = 1;
        }

        TimeSpan? duration = null;
        int? rounds = null;
        int[] callers = [1, 16, 64];
        string? redis = Environment.GetEnvironmentVariable("SESSIONKIT_TEST_REDIS");
        for (var i = start; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"Option {args[i]} needs a value.");
            }

            switch (args[i])
            {
                case "--duration": duration = TimeSpan.FromSeconds(double.Parse(args[i + 1], CultureInfo.InvariantCulture)); break;
                case "--rounds": rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--callers": callers = [.. args[i + 1].Split(',').Select(static c => int.Parse(c, CultureInfo.InvariantCulture))]; break;
                case "--redis": redis = args[i + 1]; break;
                default: throw new ArgumentException($"Unknown option {args[i]}.");
            }
        }

        return new Settings(mode, duration, rounds, callers, redis);
    }
}
