using System.Diagnostics;
using System.Text;

namespace SessionKit.Tests;

/// <summary>
/// Runs tests/SessionKit.FileStore.Child with <c>dotnet</c> and records the complete lines it prints (a line cut off
/// by a kill is not an acknowledgement and is dropped). Always killed on dispose.
/// </summary>
internal sealed class FileStoreChildProcess : IAsyncDisposable
{
    private static readonly string ChildDll = Path.Combine(AppContext.BaseDirectory, "SessionKit.FileStore.Child.dll");

    private readonly Process _process;
    private readonly Task _reader;
    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private readonly StringBuilder _stderr = new();

    private FileStoreChildProcess(Process process)
    {
        _process = process;
        _reader = Task.Run(ReadLinesAsync);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_gate)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
    }

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    public static FileStoreChildProcess Start(params string[] arguments) => Start(environment: null, arguments);

    public static FileStoreChildProcess Start(IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        info.ArgumentList.Add(ChildDll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return new FileStoreChildProcess(Process.Start(info) ?? throw new InvalidOperationException("The child process did not start."));
    }

    /// <summary>Waits until the child printed a line matching <paramref name="predicate"/>.</summary>
    public async Task WaitForLineAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!Lines.Any(predicate))
        {
            if (_process.HasExited && _reader.IsCompleted)
            {
                throw new InvalidOperationException($"The child exited with {_process.ExitCode} before printing the expected line. stderr: {StandardError}");
            }

            try
            {
                await Task.Delay(5, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"The child did not print the expected line within {timeout}. stderr: {StandardError}");
            }
        }
    }

    /// <summary>Waits for the child to exit by itself and for its output to be read.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            await _reader.WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The child did not exit within {timeout}. stderr: {StandardError}");
        }

        return _process.ExitCode;
    }

    /// <summary>Kills the child at once (SIGKILL on Unix) and waits for it to be gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
            }
        }
        catch (InvalidOperationException)
        {
        }
        finally
        {
            _process.Dispose();
        }
    }

    private async Task ReadLinesAsync()
    {
        var stream = _process.StandardOutput.BaseStream;
        var buffer = new byte[4096];
        var pending = new List<byte>();
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] == (byte)'\n')
                {
                    var line = Encoding.UTF8.GetString([.. pending]).TrimEnd('\r');
                    pending.Clear();
                    lock (_gate)
                    {
                        _lines.Add(line);
                    }
                }
                else
                {
                    pending.Add(buffer[i]);
                }
            }
        }
    }
}
