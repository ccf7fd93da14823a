using Microsoft.Extensions.Options;
using SessionKit.Stores;

namespace SessionKit.Internal;

/// <summary>Rejects a missing or relative directory and non-positive sizes in <see cref="FileSessionStoreOptions"/>, naming the option.</summary>
internal sealed class FileSessionStoreOptionsValidator : IValidateOptions<FileSessionStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, FileSessionStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Directory))
        {
            failures.Add("FileSessionStoreOptions.Directory is required (the root directory of the file store).");
        }
        else if (options.Directory.Contains('\0', StringComparison.Ordinal))
        {
            failures.Add("FileSessionStoreOptions.Directory contains a NUL character.");
        }
        else if (!Path.IsPathFullyQualified(options.Directory))
        {
            failures.Add($"FileSessionStoreOptions.Directory must be a fully qualified path (was '{options.Directory}'); a relative path would resolve differently in each process.");
        }

        if (options.SweepBatchSize <= 0)
        {
            failures.Add($"FileSessionStoreOptions.SweepBatchSize must be positive (was {options.SweepBatchSize}).");
        }

        if (options.LockTimeout <= TimeSpan.Zero || options.LockTimeout.TotalMilliseconds > int.MaxValue)
        {
            failures.Add($"FileSessionStoreOptions.LockTimeout must be positive and at most {int.MaxValue} ms (was {options.LockTimeout}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
