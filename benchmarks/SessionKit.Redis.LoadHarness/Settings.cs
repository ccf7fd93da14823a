using System.Globalization;

internal sealed record Settings(TimeSpan Duration, int Rounds, int[] Callers, string? Redis)
{
    public static Settings Parse(string[] args)
    {
        var duration = TimeSpan.FromSeconds(3);
        var rounds = 3;
        int[] callers = [1, 16, 64];
        string? redis = Environment.GetEnvironmentVariable("SESSIONKIT_TEST_REDIS");
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--duration": duration = TimeSpan.FromSeconds(double.Parse(args[i + 1], CultureInfo.InvariantCulture)); break;
                case "--rounds": rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--callers": callers = [.. args[i + 1].Split(',').Select(static c => int.Parse(c, CultureInfo.InvariantCulture))]; break;
                case "--redis": redis = args[i + 1]; break;
                default: throw new ArgumentException($"Unknown option {args[i]}.");
            }
        }

        return new Settings(duration, rounds, callers, redis);
    }
}
