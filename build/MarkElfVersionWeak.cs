#nullable enable
// Compiled by MSBuild's RoslynCodeTaskFactory against netstandard2.0 (no spans) (see build/LibTorchCompat.targets): the only place in the
// repository that explains and carries out the GLIBCXX_3.4.32 fix for TorchSharp's native library.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Marks one symbol-version requirement of an ELF64 little-endian shared library as weak
/// (<c>VER_FLG_WEAK</c> in <c>.gnu.version_r</c>), so the dynamic loader warns instead of refusing to
/// load when the system library lacks that version. Writes a new file and renames it over the old one,
/// so a file hard-linked elsewhere (the NuGet cache) is never changed.
/// </summary>
public sealed class MarkElfVersionWeak : Microsoft.Build.Utilities.Task
{
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlagWeak = 0x2;

    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string Version { get; set; } = "";

    /// <summary>Skips the patch when the system libstdc++ already provides <see cref="Version"/>.</summary>
    public override bool Execute()
    {
        string? system = FindSystemLibStdCxx();
        if (system is null || Contains(File.ReadAllBytes(system), Encoding.ASCII.GetBytes(Version + "\0")))
        {
            Log.LogMessage(MessageImportance.Low,
                $"libtorch compat: system libstdc++ ({system ?? "not found"}) needs no patch");
            return true;
        }
        foreach (var item in Files)
        {
            string path = item.ItemSpec;
            byte[] elf = File.ReadAllBytes(path);
            string outcome = Patch(elf);
            if (outcome == "patched")
            {
                string temp = path + ".weak-tmp";
                File.WriteAllBytes(temp, elf);
                File.Delete(path);
                File.Move(temp, path);
                Log.LogMessage(MessageImportance.High,
                    $"libtorch compat: marked {Version} weak in {path} (system libstdc++ lacks it; see README)");
            }
            else
            {
                Log.LogMessage(MessageImportance.Low, $"libtorch compat: {path}: {outcome}");
            }
        }
        return !Log.HasLoggedErrors;
    }

    string Patch(byte[] elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[4] != 2 || elf[5] != 1)
            return "not an ELF64 little-endian file, left alone";
        ulong shoff = BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3a);
        int shnum = BitConverter.ToUInt16(elf, 0x3c);
        for (int s = 0; s < shnum; s++)
        {
            int sh = checked((int)shoff + s * shentsize);
            if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;
            int section = checked((int)BitConverter.ToUInt64(elf, sh + 0x18));
            int link = (int)BitConverter.ToUInt32(elf, sh + 0x28);
            int strtab = checked((int)BitConverter.ToUInt64(elf, checked((int)shoff + link * shentsize) + 0x18));
            int verneed = section;
            while (true)
            {
                int count = BitConverter.ToUInt16(elf, verneed + 2);
                int aux = verneed + (int)BitConverter.ToUInt32(elf, verneed + 8);
                for (int a = 0; a < count; a++)
                {
                    string name = CString(elf, strtab + (int)BitConverter.ToUInt32(elf, aux + 8));
                    if (name == Version)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, aux + 4);
                        if ((flags & VerFlagWeak) != 0) return "already weak";
                        elf[aux + 4] = (byte)(flags | VerFlagWeak);
                        return "patched";
                    }
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                uint next = BitConverter.ToUInt32(elf, verneed + 12);
                if (next == 0) break;
                verneed += (int)next;
            }
        }
        return $"does not require {Version}, left alone";
    }

    static string? FindSystemLibStdCxx()
    {
        try
        {
            var ldconfig = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/sbin/ldconfig", "-p")
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
            string listing = ldconfig.StandardOutput.ReadToEnd();
            ldconfig.WaitForExit();
            string arch = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture
                == System.Runtime.InteropServices.Architecture.Arm64 ? "AArch64" : "x86-64";
            foreach (string line in listing.Split('\n'))
            {
                if (line.TrimStart().StartsWith("libstdc++.so.6 ", StringComparison.Ordinal) && line.Contains(arch))
                    return line.Substring(line.LastIndexOf("=> ", StringComparison.Ordinal) + 3).Trim();
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No ldconfig on this system: fall through to the usual locations.
        }
        foreach (string candidate in new[] { "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6",
                                             "/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib/libstdc++.so.6" })
        {
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = Array.IndexOf(haystack, needle[0]); i >= 0 && i <= haystack.Length - needle.Length;
             i = Array.IndexOf(haystack, needle[0], i + 1))
        {
            int k = 1;
            while (k < needle.Length && haystack[i + k] == needle[k]) k++;
            if (k == needle.Length) return true;
        }
        return false;
    }

    static string CString(byte[] bytes, int start)
    {
        int end = Array.IndexOf(bytes, (byte)0, start);
        return Encoding.ASCII.GetString(bytes, start, end - start);
    }
}
