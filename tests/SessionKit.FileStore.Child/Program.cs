using System.Globalization;
using System.Text.Json;
using SessionKit;
using SessionKit.Stores;

// Child process for FileSessionStoreTests and FileSessionStoreMultiProcessTests. Every line it prints on stdout
// acknowledges a store call that has returned; the parent checks those acknowledgements against the directory.
//
//   crash <dir> <run>                         create/update/delete sessions forever (the parent SIGKILLs it)
//   merge <dir> <writer> <rounds> <sessions> <go-file>   set disjoint metadata keys on shared sessions m-0..m-N
//   race  <dir> <writer> <count> <go-file>    create r-0..r-N, printing "W <id>" for each create that won
//   cas   <dir> <id> <increments> <go-file>   increment state "counter" by compare-and-set, retrying on conflict
//   update-until-gone <dir> <id>              update the session until it reports NotFound
//   touch-all <dir> <count> <now-unix-ms> <go-file>      touch t-0..t-N in random order at that instant: "T <id> <result>"
//   open <dir>                                print "opened", or "refused: <message>" when the store will not open
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: <mode> <dir> ...");
    return 2;
}

FileSessionStore store;
try
{
    store = new FileSessionStore(new FileSessionStoreOptions { Directory = args[1] });
}
catch (SessionStoreException ex) when (args[0] == "open")
{
    Console.WriteLine($"refused: {ex.Message}");
    return 0;
}

var idle = TimeSpan.FromHours(1);
const long MaxState = 1024 * 1024;

switch (args[0])
{
    case "open":
        Console.WriteLine("opened");
        return 0;
    case "crash":
        await CrashAsync(int.Parse(args[2], CultureInfo.InvariantCulture));
        return 0;
    case "merge":
        await MergeAsync(args[2], int.Parse(args[3], CultureInfo.InvariantCulture), int.Parse(args[4], CultureInfo.InvariantCulture), args[5]);
        return 0;
    case "race":
        await RaceAsync(args[2], int.Parse(args[3], CultureInfo.InvariantCulture), args[4]);
        return 0;
    case "cas":
        await CompareAndSetAsync(args[2], int.Parse(args[3], CultureInfo.InvariantCulture), args[4]);
        return 0;
    case "update-until-gone":
        await UpdateUntilGoneAsync(args[2]);
        return 0;
    case "touch-all":
        await TouchAllAsync(int.Parse(args[2], CultureInfo.InvariantCulture), DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(args[3], CultureInfo.InvariantCulture)), args[4]);
        return 0;
    default:
        Console.Error.WriteLine($"unknown mode {args[0]}");
        return 2;
}

async Task CrashAsync(int run)
{
    Console.WriteLine("ready");
    for (var i = 0; ; i++)
    {
        var id = $"crash-{run}-{i}";
        var now = DateTimeOffset.UtcNow;
        if (!await store.CreateAsync(NewSession(id, $"user-{i % 3}", now), now))
        {
            throw new InvalidOperationException("A fresh id collided.");
        }

        Console.WriteLine($"C {id}");
        for (var k = 1; k <= 3; k++)
        {
            var result = await store.UpdateAsync(id, new SessionChanges().SetState($"k{k}", k), DateTimeOffset.UtcNow, MaxState);
            Console.WriteLine($"U {id} {result.Session!.Version} k{k}");
        }

        var shared = await store.UpdateAsync("crash-shared", new SessionChanges().SetMetadata($"r{run}-{i}", "1"), DateTimeOffset.UtcNow, MaxState);
        Console.WriteLine($"S r{run}-{i} {shared.Session!.Version}");
        if (!await store.TouchAsync(id, DateTimeOffset.UtcNow))
        {
            throw new InvalidOperationException("A live session could not be touched.");
        }

        if (i % 5 == 4)
        {
            // Announce the delete: after a kill, a session with an announced but unacknowledged delete may be either way.
            Console.WriteLine($"d {id}");
            await store.DeleteAsync(id, DateTimeOffset.UtcNow);
            Console.WriteLine($"D {id}");
        }
    }
}

async Task MergeAsync(string writer, int rounds, int sessions, string goFile)
{
    await WaitForGoAsync(goFile);
    for (var round = 0; round < rounds; round++)
    {
        for (var s = 0; s < sessions; s++)
        {
            var result = await store.UpdateAsync($"m-{s}", new SessionChanges().SetMetadata($"{writer}-{round}", writer), DateTimeOffset.UtcNow, MaxState);
            if (!result.IsUpdated)
            {
                throw new InvalidOperationException($"Update {round} of m-{s} returned {result.Status}.");
            }
        }
    }

    Console.WriteLine($"done {rounds * sessions}");
}

async Task RaceAsync(string writer, int count, string goFile)
{
    await WaitForGoAsync(goFile);
    for (var i = 0; i < count; i++)
    {
        var id = $"r-{i}";
        var now = DateTimeOffset.UtcNow;
        var session = NewSession(id, userId: null, now) with { Metadata = new Dictionary<string, string> { ["winner"] = writer } };
        if (await store.CreateAsync(session, now))
        {
            Console.WriteLine($"W {id}");
        }
    }

    Console.WriteLine("done");
}

async Task CompareAndSetAsync(string id, int increments, string goFile)
{
    await WaitForGoAsync(goFile);
    var conflicts = 0;
    for (var done = 0; done < increments;)
    {
        var current = await store.GetAsync(id, DateTimeOffset.UtcNow) ?? throw new InvalidOperationException("The counter session is gone.");
        var value = current.State.TryGetValue("counter", out var element) ? element.GetInt32() : 0;
        var changes = new SessionChanges { ExpectedVersion = current.Version }.SetState("counter", value + 1);
        var result = await store.UpdateAsync(id, changes, DateTimeOffset.UtcNow, MaxState);
        if (result.Status == SessionUpdateStatus.Conflict)
        {
            conflicts++;
            continue;
        }

        done++;
    }

    Console.WriteLine($"done {conflicts}");
}

async Task UpdateUntilGoneAsync(string id)
{
    for (var n = 0; ; n++)
    {
        var result = await store.UpdateAsync(id, new SessionChanges().SetState($"n{n % 50}", n), DateTimeOffset.UtcNow, MaxState);
        if (result.Status == SessionUpdateStatus.NotFound)
        {
            Console.WriteLine($"gone {n}");
            return;
        }

        if (n % 10 == 0)
        {
            Console.WriteLine($"U {n}");
        }
    }
}

async Task TouchAllAsync(int count, DateTimeOffset now, string goFile)
{
    var order = Enumerable.Range(0, count).ToArray();
    Random.Shared.Shuffle(order);
    await WaitForGoAsync(goFile);
    foreach (var i in order)
    {
        var touched = await store.TouchAsync($"t-{i}", now);
        Console.WriteLine($"T t-{i} {(touched ? "true" : "false")}");
    }

    Console.WriteLine("done");
}

Session NewSession(string id, string? userId, DateTimeOffset now) => new()
{
    Id = id,
    UserId = userId,
    Kind = "child",
    CreatedAt = now,
    LastAccessedAt = now,
    IdleTimeout = idle,
    Version = 1,
    State = new Dictionary<string, JsonElement> { ["k0"] = JsonSerializer.SerializeToElement(0) },
};

static async Task WaitForGoAsync(string goFile)
{
    Console.WriteLine("ready");
    for (var waited = 0; !File.Exists(goFile); waited += 2)
    {
        if (waited > 30_000)
        {
            throw new TimeoutException("The parent never said go.");
        }

        await Task.Delay(2);
    }
}
