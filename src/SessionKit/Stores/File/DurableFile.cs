using System.Runtime.InteropServices;

namespace SessionKit.Internal;

/// <summary>File-system steps of the file store: owner-only creation, atomic replacement and directory flushes.</summary>
internal static class DurableFile
{
    private const UnixFileMode OwnerFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Opens a new file that nobody else can have open (O_EXCL, so a planted file or symlink is never followed).</summary>
    public static FileStream CreateNew(string path)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerFile;
        }

        return new FileStream(path, options);
    }

    /// <summary>Opens (creating if needed) a lock file with an exclusive OS lock: <c>flock(LOCK_EX)</c> on Unix, a sharing lock on Windows.</summary>
    /// <exception cref="IOException">Another open file description holds the lock (see <see cref="IsLockContention"/>).</exception>
    public static FileStream OpenExclusive(string path)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerFile;
        }

        return new FileStream(path, options);
    }

    /// <summary>Determines whether an exception from <see cref="OpenExclusive"/> means "locked by someone else".</summary>
    public static bool IsLockContention(IOException exception) =>
        exception is not FileNotFoundException and not DirectoryNotFoundException
        && exception.HResult is 11 or 35 // EAGAIN/EWOULDBLOCK on Linux and on macOS/BSD, from flock(LOCK_NB)
            or unchecked((int)0x80070020) or unchecked((int)0x80070021); // ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION

    /// <summary>Creates a directory (and missing parents up to an existing one) owner-only; records each parent whose entries changed.</summary>
    public static void CreateDirectory(string path, List<string>? changedParents)
    {
        if (Directory.Exists(path))
        {
            return;
        }

        var parent = Path.GetDirectoryName(path);
        if (parent is not null)
        {
            CreateDirectory(parent, changedParents);
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, OwnerDirectory);
        }

        if (parent is not null)
        {
            changedParents?.Add(parent);
        }
    }

    /// <summary>Restricts an existing directory to its owner (0700) on Unix.</summary>
    public static void RestrictToOwner(string path)
    {
        if (!OperatingSystem.IsWindows() && File.GetUnixFileMode(path) != OwnerDirectory)
        {
            File.SetUnixFileMode(path, OwnerDirectory);
        }
    }

    /// <summary>
    /// Flushes a directory's entries (creations, renames, deletions) to the disk where the OS supports it (Unix:
    /// <c>fsync</c> on the directory). Windows has no directory flush: NTFS journals metadata itself.
    /// </summary>
    /// <exception cref="IOException">The flush failed (for example EIO).</exception>
    public static void FlushDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var fd = NativeMethods.open(NullTerminatedUtf8(path), 0 /* O_RDONLY */);
        if (fd < 0)
        {
            var openError = Marshal.GetLastPInvokeError();
            throw new IOException($"Could not open directory '{path}' to flush it (errno {openError}).", openError);
        }

        try
        {
            if (NativeMethods.fsync(fd) != 0)
            {
                var error = Marshal.GetLastPInvokeError();
                if (error != 22 /* EINVAL: this file system does not sync directories */)
                {
                    throw new IOException($"Could not flush directory '{path}' (errno {error}).", error);
                }
            }
        }
        finally
        {
            _ = NativeMethods.close(fd);
        }
    }

    private static byte[] NullTerminatedUtf8(string path)
    {
        var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(path) + 1];
        System.Text.Encoding.UTF8.GetBytes(path, bytes);
        return bytes;
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int open(byte[] path, int flags);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int close(int fd);
    }
}
